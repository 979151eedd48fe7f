"""An account closed in Kazoo (its account document soft-deleted): charged up to and including
the day it closed on, nothing after, whatever order the crawl and the closing come in; a change
to its documents afterwards is nobody's mistake (no charge, no failure); a payment for it is a
failure a person must look at; the audit still answers for it. Worked examples on both stores,
and a property over closing days and missed midnights."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db
from bookkeeper.ports import ViewQuery
from bookkeeper.services.audit.audit_scope import accounts_in_scope, audit_accounts
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.billing.crawl_plan import mark_crawled, plan_crawls
from bookkeeper.services.payments.postings import PostingRefused, apply_payment
from testkit.fixtures.billing_world import World, gregorian
from tests.integration.test_billing_worked_examples import (
    DAILY_PHONES,
    GENEROUS,
    MSK,
    OFFICE_PLAN,
    RESELLER_ONBILL,
    kazbill_entries,
    one_customer,
)

pytestmark = pytest.mark.integration


def close(store, account_id: str, moment: datetime) -> None:
    """As Kazoo deletes an account: the flag and the moment, in `accounts`, in the account's own
    database and on its services document."""
    for db in (ACCOUNTS_DB, account_db(account_id), SERVICES_DB):
        doc = store.get(db, account_id)
        store.put(db, {**doc, "pvt_deleted": True, "pvt_modified": gregorian(moment)})


def daily_days(store, account_id: str) -> list[int]:
    return sorted(
        int(entry_id.split("-")[3][-2:])
        for entry_id in kazbill_entries(store, account_id, [(2026, 12)])
        if "-daily-" in entry_id
    )


def run_planned_crawls(ports, clock, moment: datetime) -> None:
    """What the scheduler does at `moment`: every day each reseller still owes, in order."""
    clock.set(moment)
    jobs, broken = plan_crawls(ports.store, moment)
    assert broken == []
    for job in jobs:
        for account_id in job.account_ids:
            crawl_account_day(ports, account_id, job.day)
        mark_crawled(ports.store, job.reseller_id, job.day)


def failures_of(store, account_id: str) -> list[str]:
    return store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[account_id], end_key=[account_id, {}]),
    ).values()


def daily_world(store):
    return one_customer(
        store,
        "Lambda Dental",
        created=datetime(2026, 11, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )


def test_closed_on_the_10th_owes_the_10th_and_nothing_after(store):
    # Two daily phones (500.00 a month each, 32.2581 a day for both in December). Crawled every
    # morning; the account closes at 15:00 on the 10th, and an admin edits a phone on the 11th.
    world, customer, clock, ports = daily_world(store)
    for day in range(1, 11):
        run_planned_crawls(ports, clock, datetime(2026, 12, day, 0, 5, tzinfo=MSK))
    close(store, customer, datetime(2026, 12, 10, 15, 0, tzinfo=MSK))
    clock.set(datetime(2026, 12, 10, 15, 1, tzinfo=MSK))
    assert [e.name for e in reconcile_account(ports, customer)] == ["account_closed"]
    for day in range(11, 16):
        run_planned_crawls(ports, clock, datetime(2026, 12, day, 0, 5, tzinfo=MSK))
    phone = store.get(account_db(customer), f"device{1:026d}")
    store.put(account_db(customer), {**phone, "name": "renamed"})
    assert [e.name for e in reconcile_account(ports, customer)] == ["account_closed"]
    assert daily_days(store, customer) == list(range(1, 11))
    assert failures_of(store, customer) == []
    audits = audit_accounts(ports, accounts_in_scope(ports), date(2026, 12, 1), date(2026, 12, 15))
    assert [(a.account_id, a.error, a.differences) for a in audits if a.account_id == customer] == [
        (customer, None, [])
    ]


def test_closed_while_the_service_was_away_over_midnight_still_owes_that_day(store):
    # The service stopped after the 9th's crawl; the account closed at 15:00 on the 10th; the
    # service is back on the 12th and catches up the 10th, 11th and 12th: the 10th began with
    # the account open, so it owes the 10th, and only the 10th.
    world, customer, clock, ports = daily_world(store)
    for day in range(1, 10):
        run_planned_crawls(ports, clock, datetime(2026, 12, day, 0, 5, tzinfo=MSK))
    close(store, customer, datetime(2026, 12, 10, 15, 0, tzinfo=MSK))
    run_planned_crawls(ports, clock, datetime(2026, 12, 12, 9, 0, tzinfo=MSK))
    assert daily_days(store, customer) == list(range(1, 11))
    assert failures_of(store, customer) == []


def test_a_payment_for_a_closed_account_is_a_failure_for_a_person_and_posts_nothing(store):
    world, customer, clock, ports = daily_world(store)
    close(store, customer, datetime(2026, 11, 30, 12, 0, tzinfo=MSK))
    with pytest.raises(PostingRefused) as refused:
        apply_payment(
            ports, customer, amount=1_000_000, reason="wire_transfer", external_id="wire-closed-1", by="operator"
        )
    assert (refused.value.field, refused.value.reason) == ("account", "account closed")
    assert kazbill_entries(store, customer, [(2026, 11), (2026, 12)]) == {}
    assert failures_of(store, customer)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    closed_on=st.integers(1, 20),
    closing_hour=st.integers(0, 23),
    mornings=st.lists(st.booleans(), min_size=22, max_size=22),
)
def test_a_closed_account_pays_exactly_the_days_it_began_open(tmp_path_factory, closed_on, closing_hour, mornings):
    """Whichever mornings the service was there for (the others caught up later), the daily fees
    are the 1st to the closing day, each once."""
    store = EmbeddedStore(tmp_path_factory.mktemp("closure") / "k.sqlite3")
    world, customer, clock, ports = daily_world(store)
    closing = datetime(2026, 12, closed_on, closing_hour, 30, tzinfo=MSK)
    for day, present in zip(range(1, 23), mornings, strict=True):
        morning = datetime(2026, 12, day, 0, 5, tzinfo=MSK)
        if closing < morning and not store.get(ACCOUNTS_DB, customer).get("pvt_deleted"):
            close(store, customer, closing)
        if present or day in (1, 22):  # running on the 1st (a first crawl has no past to catch up)
            run_planned_crawls(ports, clock, morning)
    assert daily_days(store, customer) == list(range(1, closed_on + 1))
    assert failures_of(store, customer) == []
    audits = audit_accounts(ports, [customer], date(2026, 12, 1), date(2026, 12, 21))
    assert audits[0].error is None and audits[0].differences == []


def test_a_call_reported_after_its_account_closed_is_charged_once(store):
    # A 61-second call to Moscow at 0.90 a minute (per 60 s, minimum 60): 1.80 for two minutes.
    # It ended at 14:00 on the 10th, the account closed at 15:00, the CDR came at 16:00 and came
    # again with a replay: the call was made, so it is owed, once.
    from bookkeeper.domain.calls import call_from_leg
    from bookkeeper.services.rating.call_rating import bill_call
    from bookkeeper.services.rating.rate_decks import import_rate_deck

    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "default_rate_deck": "retail"}, plan=OFFICE_PLAN)
    customer = world.customer(
        "Mu Travel", created=datetime(2026, 11, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    assert import_rate_deck(
        store, world.reseller, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,0.90,60,60"]
    ).report.ok
    close(store, customer, datetime(2026, 12, 10, 15, 0, tzinfo=MSK))
    clock = SettableClock(datetime(2026, 12, 10, 16, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    call = call_from_leg(
        account_id=customer,
        call_id="late-cdr-1",
        billing_seconds=61,
        switch_direction="outbound",
        resource_id="carrier-1",
        authorizing_type=None,
        callee="+74951112233",
        request=None,
        ended_gregorian=gregorian(datetime(2026, 12, 10, 14, 0, tzinfo=MSK)),
    )
    first, again = [e.name for e in bill_call(ports, call)], [e.name for e in bill_call(ports, call)]
    assert "call_charged" in first and "call_duplicate" in again
    calls = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, [(2026, 12)]).items()
        if "-call-" in entry_id
    }
    assert list(calls.values()) == [18_000]
    assert failures_of(store, customer) == []
