"""The actor tree on Thespian's in-process base: batches reach the shards and come back answered,
the scheduler crawls what is owed, failures are stored, and a spent restart budget stops the
service. The store is a real embedded store file; the clock is a FileClock the test moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from thespian.actors import ActorExitRequest

from actors import shard as shard_module
from actors.messages import ServiceFailed, ServiceStatus, StartService, StatusRequest
from actors.system import running_service
from bookkeeper.adapters.clock import FileClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.config import Settings
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.billing_world import World
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def world(tmp_path):
    path = tmp_path / "kazbill.sqlite3"
    store = EmbeddedStore(path)
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    yield world, Settings(store_path=str(path)), clock
    store.close()


def raising(message: str):
    """A stand-in for a handler with a bug: it raises whatever it is given."""

    def explode(*args, **kwargs):
        raise RuntimeError(message)

    return explode


def start(settings: Settings, clock: FileClock, **overrides) -> StartService:
    values = dict(
        settings=settings,
        shard_count=3,
        restart_intensity=3,
        restart_period_s=60.0,
        serve_pid=None,
        clock_file=clock.path,
        scheduler_interval_s=None,
        mailer_interval_s=None,
    )
    return StartService(**{**values, **overrides})


def test_a_batch_of_changes_is_billed_once_and_answered_per_account(world):
    world, settings, clock = world
    customers = [
        world.customer(
            f"Customer {n}",
            created=datetime(2026, 1, 10, tzinfo=MSK),
            onbill={"billing_day": 1},
            limits=GENEROUS,
            devices=2,
        )
        for n in range(4)
    ]
    with running_service(start(settings, clock), base="simpleSystemBase") as service:
        client = service.client(timeout_s=30)
        done = client.hand_off("reconcile", [*customers, customers[0]])  # a duplicate in the batch
        assert sorted(done.done) == sorted(customers) and not done.failed and not done.not_done
        again = client.hand_off("reconcile", customers)
        assert sorted(again.done) == sorted(customers) and again.events == ()  # nothing new to charge
    for customer in customers:
        entries = kazbill_entries(world.store, customer, [(2026, 3)])
        # 2 × 500.00 for 1..31 March, opened by the first look at the account
        assert [amount for kind, amount in entries.values() if kind == "debit"] == [10_000_000]


def test_an_unknown_account_is_recorded_not_retried(world):
    world, settings, clock = world
    stranger = "0" * 31 + "1"
    with running_service(start(settings, clock), base="simpleSystemBase") as service:
        done = service.client(timeout_s=30).hand_off("reconcile", [stranger])
    assert done.done == (stranger,) and done.events == (("billing_failed", stranger),)
    failures = [row for row in world.store.all_docs(FAILURES_DB).rows if not row.id.startswith("_design/")]
    assert len(failures) == 1


def test_work_that_crashes_the_shard_twice_becomes_a_stored_failure(world, monkeypatch):
    world, settings, clock = world
    customer = world.customer("Crashy", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits=GENEROUS)
    monkeypatch.setattr(shard_module, "bill_accounts", raising("a bug in the shard"))
    with running_service(start(settings, clock), base="simpleSystemBase") as service:
        done = service.client(timeout_s=30).hand_off("reconcile", [customer])
    assert done.failed == ((customer, "the shard failed twice on this work"),)
    (row,) = [row for row in world.store.all_docs(FAILURES_DB, _with_docs()).rows if not row.id.startswith("_")]
    assert row.doc["reason_code"] == "shard_work_failed" and row.doc["payload"]["account_ids"] == [customer]


def test_the_scheduler_crawls_each_owed_day_once_and_records_it(world):
    world, settings, clock = world
    customer = world.customer(
        "Daily", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    with running_service(start(settings, clock, scheduler_interval_s=3600.0), base="simpleSystemBase") as service:
        client = service.client(timeout_s=30)
        first = client.crawl_now()
        assert (world.reseller, "2026-03-02") in first.days_crawled
        assert client.crawl_now().days_crawled == ()  # the same day again: nothing owed
        clock.set(datetime(2026, 3, 5, 0, 1, tzinfo=MSK))  # down for two days: they are caught up
        caught_up = client.crawl_now()
    assert [day for reseller, day in caught_up.days_crawled if reseller == world.reseller] == [
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
    ]
    state = world.store.get(SYSTEM_DB, f"kazbill_crawl-{world.reseller}")
    assert state["last_day"] == "2026-03-05"
    assert kazbill_entries(world.store, customer, [(2026, 3)])  # the crawl opened the period


def test_a_crawl_cut_short_by_a_hand_back_resumes_the_day_from_the_accounts_not_crawled(world, monkeypatch):
    world, settings, clock = world
    customers = [
        world.customer(f"C{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS)
        for n in range(3)
    ]
    refused, refusals_left = customers[1], [2]
    handed: list[tuple[str, ...]] = []  # each crawl batch's accounts
    real = shard_module.bill_accounts

    def refusing_one(ports, account_ids, *, day=None):
        """The store refuses one customer twice (handed back), then answers."""
        if day is None:
            return real(ports, account_ids, day=day)
        handed.append(tuple(account_ids))
        if refused not in account_ids or not refusals_left[0]:
            return real(ports, account_ids, day=day)
        refusals_left[0] -= 1
        outcome = real(ports, [account for account in account_ids if account != refused], day=day)
        return replace(outcome, not_done=(*outcome.not_done, refused))

    monkeypatch.setattr(shard_module, "bill_accounts", refusing_one)
    with running_service(start(settings, clock, scheduler_interval_s=3600.0), base="simpleSystemBase") as service:
        client = service.client(timeout_s=30)
        for _ in range(10):  # (a pass per hand-back; the start-up tick may have run one)
            client.crawl_now()
            state = world.store.get_many(SYSTEM_DB, [f"kazbill_crawl-{world.reseller}"])
            if state and not refusals_left[0]:
                break
    assert not refusals_left[0]
    # recorded once every account was crawled
    assert state[f"kazbill_crawl-{world.reseller}"]["last_day"] == "2026-03-02"
    with_refused = [batch for batch in handed if refused in batch]
    assert len(with_refused) == 3
    assert with_refused[1:] == [(refused,), (refused,)]  # resumed from it alone
    for other in (customers[0], customers[2]):
        assert sum(other in batch for batch in handed) == 1  # crawled once for the day, not at each pass


def test_a_dead_shard_is_restarted_until_the_budget_is_spent(world):
    world, settings, clock = world
    with running_service(start(settings, clock, restart_intensity=1), base="simpleSystemBase") as service:
        status = service.system.ask(service.supervisor, StatusRequest(), 10)
        assert isinstance(status, ServiceStatus) and len(status.shards) == 3
        service.system.tell(status.shards[0], ActorExitRequest())
        after = service.system.ask(service.supervisor, StatusRequest(), 10)
        assert after.restarts == 1 and after.shards[0] != status.shards[0] and not after.giving_up
        service.system.tell(after.shards[0], ActorExitRequest())
        failed = service.system.listen(10)
        assert isinstance(failed, ServiceFailed) and "shard 0" in failed.reason


def _with_docs():
    from bookkeeper.ports import ViewQuery

    return ViewQuery(include_docs=True)


def test_notices_queued_by_a_batch_are_mailed_by_the_mailer(world):
    from bookkeeper.domain.kazoo_names import account_db
    from testkit.support.smtp_sink import SmtpSink
    from tests.integration.test_notices_and_mail import admin

    world, settings, clock = world
    customer = world.customer(
        "Mailed", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    world.store.put(account_db(customer), admin(customer, "boss@mailed.example"))
    sink = SmtpSink().start()
    try:
        settings = Settings(store_path=settings.store_path, smtp_port=sink.port, smtp_sender="billing@res.example")
        with running_service(start(settings, clock, mailer_interval_s=3600.0), base="simpleSystemBase") as service:
            client = service.client(timeout_s=30)
            done = client.hand_off("reconcile", [customer])
            assert ("notices_queued", customer) in done.events
            client.mail_now()  # whatever the poke did not send yet
            assert client.mail_now().emailed == 0  # nothing twice
    finally:
        sink.stop()
    (message,) = sink.received
    assert message["Subject"] == "Mailed: начат новый расчётный период"
    assert message["From"] == "Reseller <billing@res.example>"  # the reseller's name, the operator's address


def test_the_crawl_issues_a_closed_periods_documents_once_and_the_troupe_renders_them(world):
    from bookkeeper.domain.kazoo_names import account_db, account_modb
    from bookkeeper.ports import ViewQuery

    world, settings, clock = world
    onbill = world.store.get(account_db(world.reseller), "onbill")
    world.store.put(
        account_db(world.reseller), {**onbill, "carriers": [{"id": "volna", "name": "Volna", "main": True}]}
    )
    customer = world.customer(
        "Documented", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    with running_service(start(settings, clock, scheduler_interval_s=3600.0), base="simpleSystemBase") as service:
        client = service.client(timeout_s=60)
        clock.set(datetime(2026, 2, 10, 12, 0, tzinfo=MSK))
        client.hand_off("reconcile", [customer])  # February charged
        clock.set(datetime(2026, 3, 2, 0, 5, tzinfo=MSK))  # the second day of March: February is issued
        client.crawl_now()
        status = service.system.ask(service.supervisor, StatusRequest(), 10)
        assert isinstance(status, ServiceStatus) and status.document_workers is not None
        for _ in range(3):  # the crawl's own passes may have rendered them already
            assert client.documents_now().failed == 0
        client.hand_off("crawl", [customer], day="2026-03-02")  # the same day crawled again: nothing new
    rows = world.store.query_view(
        account_modb(customer, 2026, 2), "kazbill_documents", "by_period", ViewQuery(include_docs=True)
    ).rows
    # Rendered, then no one to email them to (the customer's users have no email here).
    assert sorted((row.doc["document_type"], row.doc["number"], row.doc["state"]) for row in rows) == [
        ("act", "1", "no_recipients"),
        ("invoice", "1", "no_recipients"),
    ]
    assert all(
        [h["state"] for h in row.doc["state_history"]] == ["queued", "rendered", "no_recipients"] for row in rows
    )  # issued once


def test_clock_jumps_over_month_end_and_back_charge_each_period_once(world):
    world, settings, clock = world
    customer = world.customer(
        "Jumpy", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    with running_service(start(settings, clock, scheduler_interval_s=3600.0), base="simpleSystemBase") as service:
        client = service.client(timeout_s=30)
        client.crawl_now()
        clock.set(datetime(2026, 4, 2, 0, 10, tzinfo=MSK))  # NTP, or a host resumed: a month later at once
        forward = client.crawl_now()
        clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=MSK))  # and back again
        backward = client.crawl_now()
        clock.set(datetime(2026, 4, 2, 0, 15, tzinfo=MSK))
        again = client.crawl_now()
    days = [day for reseller, day in forward.days_crawled if reseller == world.reseller]
    assert days[0] == "2026-03-03" and days[-1] == "2026-04-02" and len(days) == 31  # every missed day, in order
    assert backward.days_crawled == () and again.days_crawled == ()  # nothing is owed twice
    charged = {
        entry_id: entry
        for entry_id, entry in kazbill_entries(world.store, customer, [(2026, 3), (2026, 4)]).items()
        if "-kazbill-" in entry_id
    }  # (April also carries March's balance over, as Kazoo does)
    assert charged == {
        "202603-kazbill-mrc-20260301-devices-sip_device-q2": ("debit", 10_000_000),
        "202604-kazbill-mrc-20260401-devices-sip_device-q2": ("debit", 10_000_000),
    }


def test_calls_reach_the_shard_of_the_account_that_placed_them_and_are_charged_once(world):
    from bookkeeper.domain.calls import FinishedCall
    from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
    from bookkeeper.services.rating.rate_decks import import_rate_deck

    world, settings, clock = world
    onbill = world.store.get(account_db(world.reseller), "onbill")
    world.store.put(account_db(world.reseller), {**onbill, "default_rate_deck": "retail"})
    assert import_rate_deck(world.store, world.reseller, "retail", ["prefix,rate_cost", "7,1.20"]).report.ok
    callers = [
        world.customer(
            f"Caller {n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS
        )
        for n in range(3)
    ]
    ended = to_gregorian_seconds(int(datetime(2026, 3, 2, 13, 0, tzinfo=MSK).timestamp()))
    calls = [
        FinishedCall(caller, f"leg-{n}-{caller[:6]}", 61, "74951234567", "outbound", True, ended)
        for n in range(2)
        for caller in callers
    ]
    with running_service(start(settings, clock), base="simpleSystemBase") as service:
        client = service.client(timeout_s=30)
        done = client.hand_off_calls([*calls, calls[0]])  # one call reported twice in the batch
        assert sorted(done.done) == sorted([*[c.account_id for c in calls], calls[0].account_id])
        assert not done.failed and not done.not_done
        charges = [(name, account) for name, account in done.events if name in ("call_charged", "call_duplicate")]
        assert sorted(charges) == sorted(
            [("call_charged", c.account_id) for c in calls] + [("call_duplicate", calls[0].account_id)]
        )
        assert {name for name, account in done.events if account == world.reseller} == {"call_not_rated_here"}
        again = client.hand_off_calls(calls)  # the other source: nothing more
        assert {name for name, account in again.events if name.startswith("call_") and account != world.reseller} == {
            "call_duplicate"
        }
    for caller in callers:
        calls_charged = {
            entry_id: amount
            for entry_id, (kind, amount) in kazbill_entries(world.store, caller, [(2026, 3)]).items()
            if "-call-" in entry_id
        }
        assert sorted(calls_charged.values()) == [24_000, 24_000]  # 61 s → 2 minutes at 1.20 each


def test_a_call_whose_rating_crashes_twice_is_stored_with_the_call(world, monkeypatch):
    from bookkeeper.domain.calls import FinishedCall
    from bookkeeper.services.operations import call_batches

    world, settings, clock = world
    caller = world.customer("Crashy caller", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits=GENEROUS)
    monkeypatch.setattr(call_batches, "charge_calls", raising("a bug in the batch rater"))  # then one by one
    monkeypatch.setattr(call_batches, "charge_call", raising("a bug in the rater"))
    call = FinishedCall(caller, "crashing-leg", 30, "74951234567", "outbound", True, 63_900_000_000)
    with running_service(start(settings, clock), base="simpleSystemBase") as service:
        done = service.client(timeout_s=30).hand_off_calls([call])
    assert done.failed == ((caller, "RuntimeError: a bug in the rater"),) and not done.not_done
    (row,) = [row for row in world.store.all_docs(FAILURES_DB, _with_docs()).rows if not row.id.startswith("_")]
    assert row.doc["reason_code"] == "rating_crashed" and row.doc["payload"]["call"]["call_id"] == "crashing-leg"
