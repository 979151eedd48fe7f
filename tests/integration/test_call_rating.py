"""Charging finished calls on both stores: a three-level reseller chain in three currencies, each
level at its own reseller's deck; replays, Kazoo's own per-minute debits, unrated numbers and
on-net calls; and the balance guard blocking an account a call leaves without funds."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb, to_gregorian_seconds
from bookkeeper.domain.rating import call_cost, parse_rate
from bookkeeper.ports import BulkResult, StoreUnavailable, ViewQuery, ViewResult
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.operations import call_batches
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.rating.batch_rating import charge_calls
from bookkeeper.services.rating.call_rating import bill_call
from bookkeeper.services.rating.rate_decks import import_rate_deck
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.api_world import MSK, ApiWorld
from testkit.fixtures.kazoo_docs import ledger_doc

pytestmark = pytest.mark.integration
ENDED = datetime(2026, 11, 10, 15, 30, tzinfo=MSK)


def set_onbill(store, account_id, **settings):
    db = account_db(account_id)
    found = store.get_many(db, ["onbill"]).get("onbill") or {"_id": "onbill", "pvt_type": "onbill"}
    store.put(db, {**found, **settings})


@pytest.fixture
def chain(store):
    world = ApiWorld(store).build()
    ids = world.ids
    set_onbill(store, ids["master"], currency="USD", default_rate_deck="carrier")
    set_onbill(store, ids["reseller"], currency="RUB", default_rate_deck="wholesale")
    set_onbill(store, ids["sub"], currency="EUR", default_rate_deck="retail")
    for owner, deck, cost in (
        (ids["sub"], "retail", "0.20"),
        (ids["reseller"], "wholesale", "9.00"),
        (ids["master"], "carrier", "0.05"),
    ):
        assert import_rate_deck(
            store, owner, deck, ["prefix,rate_cost,rate_increment,rate_minimum", f"7495,{cost},6,30", "7,9.99,60,60"]
        ).report.ok
    clock = SettableClock(datetime(2026, 11, 10, 15, 31, tzinfo=MSK))
    return world, BillingPorts(store, clock, world.world.design_docs)


def in_a_batch(ports, finished):
    """A call as a shard rates it: in a batch (of one), the standing of its payers then."""
    outcome = rate_calls(ports, [finished])
    assert not outcome.failed and not outcome.not_done
    return list(outcome.events)


@pytest.fixture(params=["one_by_one", "in_a_batch"])
def bill(request):
    """Each case both ways: charge_call's one call, and the batch rating a shard runs."""
    return bill_call if request.param == "one_by_one" else in_a_batch


def call(world, *, call_id="c0ffee-0001", seconds=125, number="74951234567", offnet=True, account="customer"):
    return FinishedCall(
        world.ids[account], call_id, seconds, number, "outbound", offnet, to_gregorian_seconds(int(ENDED.timestamp()))
    )


def debits(store, account_id):
    if not store.database_exists(account_modb(account_id, 2026, 11)):
        return {}
    rows = store.all_docs(account_modb(account_id, 2026, 11), ViewQuery(include_docs=True)).rows
    return {
        row.id: (
            row.doc["amount"],
            row.doc["metadata"]["kazbill"]["currency"],
            row.doc["source"]["service"],
            row.doc["metadata"]["kazbill"]["reason"],
        )
        for row in rows
        if row.doc and "-kazbill-call-" in row.id
    }


VOIP = "per-minute-voip"  # the source Kazoo registers for calls; each level's kind is the reason


def test_each_level_of_the_chain_is_charged_by_its_own_reseller_in_its_currency(chain, bill):
    world, ports = chain
    events = bill(ports, call(world))
    assert [e.name for e in events if e.name.startswith("call_")] == ["call_charged"] * 3
    entry = "202611-kazbill-call-c0ffee-0001"
    # 125 s at 30 s + 6 s slices: 126 s billed.
    assert debits(world.store, world.ids["customer"]) == {entry: (4_200, "EUR", VOIP, "per_minute_call")}  # 0.20 × 2.1
    assert debits(world.store, world.ids["sub"]) == {entry: (189_000, "RUB", VOIP, "sub_account_per_minute_call")}
    assert debits(world.store, world.ids["reseller"]) == {entry: (1_050, "USD", VOIP, "sub_account_per_minute_call")}
    again = bill(ports, call(world))  # the other source, a replay: nothing more
    assert [e.name for e in again if e.name.startswith("call_")] == ["call_duplicate"] * 3


def test_a_call_kazoo_already_debited_is_not_charged_again_at_that_level(chain, bill):
    world, ports = chain
    customer = world.ids["customer"]
    world.store.ensure_database(account_modb(customer, 2026, 11))  # Kazoo's month: none of Kazbill's views in it
    world.store.put(
        account_modb(customer, 2026, 11),
        {
            **ledger_doc(customer, 2026, 11, "jonny5-c0ffee-0002", "debit", 3_000, "per_minute_call", 0),
            "source": {"service": "per_minute_call", "id": "c0ffee-0002"},
        },
    )
    names = [
        (e.account_id, e.name) for e in bill(ports, call(world, call_id="c0ffee-0002")) if e.name.startswith("call_")
    ]
    assert names == [
        (customer, "call_debited_by_kazoo"),
        (world.ids["sub"], "call_charged"),
        (world.ids["reseller"], "call_charged"),
    ]


def test_an_unrated_number_is_recorded_not_free_and_on_net_calls_cost_nothing(chain, bill):
    world, ports = chain
    unrated = bill(ports, call(world, call_id="c0ffee-0003", number="4420123"))
    assert {e.name for e in unrated if e.name.startswith("call_")} == {"call_unrated"}
    failures = [
        row.doc
        for row in world.store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
        if row.doc and row.doc.get("reason_code") == "unrated_call"
    ]
    assert {f["account_id"] for f in failures} == {world.ids["customer"], world.ids["sub"], world.ids["reseller"]}
    assert [e.name for e in bill(ports, call(world, call_id="c0ffee-0004", offnet=False))] == ["call_not_billable"]
    assert [e.name for e in bill(ports, call(world, call_id="c0ffee-0005", seconds=0))] == ["call_not_billable"]
    assert debits(world.store, world.ids["customer"]) == {}


def test_a_call_that_leaves_the_account_without_funds_blocks_it(chain, bill):
    world, ports = chain
    customer, sub = world.ids["customer"], world.ids["sub"]
    set_onbill(world.store, sub, blocking_enabled=True)
    limits = world.store.get(account_db(customer), "limits")
    world.store.put(account_db(customer), {**limits, "pvt_allow_postpay": False, "pvt_max_postpay_amount": 0})
    names = [e.name for e in bill(ports, call(world, call_id="c0ffee-0006"))]
    assert "blocked" in names
    assert world.store.get(ACCOUNTS_DB, customer)["pvt_enabled"] is False


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4000)), min_size=1, max_size=12), data=st.data())
def test_however_calls_are_repeated_and_reordered_each_is_charged_once(tmp_path_factory, calls, data):
    store = EmbeddedStore(tmp_path_factory.mktemp("calls") / "k.sqlite3")
    world = ApiWorld(store).build()
    set_onbill(store, world.ids["sub"], currency="EUR", default_rate_deck="retail")
    import_rate_deck(store, world.ids["sub"], "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7,0.37,6,30"])
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 10, 15, 31, tzinfo=MSK)), world.world.design_docs)
    distinct = {f"call-{n}": seconds for n, seconds in calls}  # a call id reported twice carries the same seconds
    deliveries = data.draw(
        st.permutations(
            [*distinct.items(), *data.draw(st.lists(st.sampled_from(sorted(distinct.items())), max_size=10))]
        )
    )
    # One by one as charge_call does, or in batches as a shard does, a call twice in one batch too.
    size = data.draw(st.integers(0, len(deliveries)), label="batch size (0: one by one)")
    finished = [call(world, call_id=call_id, seconds=seconds) for call_id, seconds in deliveries]
    for start in range(0, len(finished), size or 1):
        if size:
            assert not rate_calls(ports, finished[start : start + size]).failed
        else:
            bill_call(ports, finished[start])
    rate = parse_rate({"prefix": "7", "rate_cost": "0.37", "rate_increment": 6, "rate_minimum": 30})
    expected = sum(call_cost(rate, seconds).amount for seconds in distinct.values())
    assert sum(amount for amount, *_ in debits(store, world.ids["customer"]).values()) == expected
    store.close()


def test_two_reports_of_a_call_dated_either_side_of_a_month_end_charge_it_once(chain, bill):
    """The switch dates its CDR 23:59:58 on the 30th; an event without a timestamp is dated by its
    receipt, 00:00:03 on the 1st. Two months, two entry ids: the second must still see the first."""
    world, ports = chain
    ports.clock.set(datetime(2026, 12, 1, 0, 1, tzinfo=MSK))
    before = datetime(2026, 11, 30, 23, 59, 58, tzinfo=MSK)
    after = datetime(2026, 12, 1, 0, 0, 3, tzinfo=MSK)
    names = []
    for ended in (before, after):
        report = FinishedCall(
            world.ids["customer"],
            "c0ffee-0100",
            65,
            "74951234567",
            "outbound",
            True,
            to_gregorian_seconds(int(ended.timestamp())),
        )
        names.append([e.name for e in bill(ports, report) if e.name.startswith("call_")])
    assert names == [["call_charged"] * 3, ["call_duplicate"] * 3]
    assert not world.store.database_exists(account_modb(world.ids["customer"], 2026, 12)) or not [
        row for row in world.store.all_docs(account_modb(world.ids["customer"], 2026, 12)).rows if "-call-" in row.id
    ]


def test_a_call_delivered_again_after_kazoos_month_turned_is_not_charged_again(chain, bill):
    """Charged at 23:59 UTC on 30 November (into November's database), delivered again at 00:05
    UTC (a redelivery after a restart): the entry would now go into December's database under
    December's id, so the month before must be looked in and the call found there."""
    world, ports = chain
    report = late_november_call(world, "c0ffee-0120")
    names = []
    for now in (datetime(2026, 12, 1, 2, 59, tzinfo=MSK), datetime(2026, 12, 1, 3, 5, tzinfo=MSK)):
        ports.clock.set(now)
        names.append([e.name for e in bill(ports, report) if e.name.startswith("call_")])
    assert names == [["call_charged"] * 3, ["call_duplicate"] * 3]
    assert_no_call_debited_in_december(world)


def late_november_call(world, call_id):
    """A customer's call ended at 23:58 UTC on 30 November (02:58 on 1 December in Moscow)."""
    ended = datetime(2026, 12, 1, 2, 58, tzinfo=MSK)
    return FinishedCall(
        world.ids["customer"],
        call_id,
        65,
        "74951234567",
        "outbound",
        True,
        to_gregorian_seconds(int(ended.timestamp())),
    )


def assert_no_call_debited_in_december(world):
    for level in ("customer", "sub", "reseller"):
        december = account_modb(world.ids[level], 2026, 12)
        assert not world.store.database_exists(december) or not [
            row for row in world.store.all_docs(december).rows if "-call-" in row.id
        ]


class NovemberLagging:
    """A CouchDB cluster's copy answering November's `calls_by_id` without its latest writes (a
    view is read from one copy; a read by id asks a quorum)."""

    def __init__(self, store):
        self.inner = store  # not `backing`: a pass would unwrap it (store_identity)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def query_view(self, db, design, view, query=ViewQuery()):
        if view == "calls_by_id" and db.endswith("-202611"):
            return ViewResult([], 0)
        return self.inner.query_view(db, design, view, query)


def test_a_redelivery_after_the_month_turned_is_found_by_id_even_where_a_view_copy_lags(chain, bill):
    """As above, with November's view not yet showing the first debit: the months before the
    current one are still read by id, so the call is not debited again under December's id."""
    world, ports = chain
    report = late_november_call(world, "c0ffee-0121")
    ports.clock.set(datetime(2026, 12, 1, 2, 59, tzinfo=MSK))
    first = [e.name for e in bill(ports, report) if e.name.startswith("call_")]
    ports.clock.set(datetime(2026, 12, 1, 3, 5, tzinfo=MSK))
    lagging = BillingPorts(NovemberLagging(world.store), ports.clock, ports.design_docs)
    second = [e.name for e in bill(lagging, report) if e.name.startswith("call_")]
    assert (first, second) == (["call_charged"] * 3, ["call_duplicate"] * 3)
    assert_no_call_debited_in_december(world)


def test_the_deck_is_the_accounts_own_else_its_service_plans_else_the_resellers_default(chain, bill):
    from bookkeeper.domain.kazoo_names import SERVICES_DB

    world, ports = chain
    store, customer, sub = world.store, world.ids["customer"], world.ids["sub"]
    assert import_rate_deck(
        store, sub, "premium", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,0.50,6,30"]
    ).report.ok
    store.put(
        account_db(sub),
        {
            "_id": "plan_premium",
            "pvt_type": "service_plan",
            "name": "Premium calls",
            "plan": {"ratedeck_name": {"premium": {}}},
        },
    )
    services = store.get(SERVICES_DB, customer)
    store.put(SERVICES_DB, {**services, "plans": {"plan_premium": {"account_id": sub}}})
    bill(ports, call(world, call_id="c0ffee-0201"))
    assert debits(store, customer)["202611-kazbill-call-c0ffee-0201"][0] == 10_500  # 126 s at 0.50, not 0.20
    set_onbill(store, customer, rate_deck="retail")  # the account's own choice wins over its plan
    bill(ports, call(world, call_id="c0ffee-0202"))
    assert debits(store, customer)["202611-kazbill-call-c0ffee-0202"][0] == 4_200


def test_both_reports_of_a_call_in_one_batch_charge_it_once(chain):
    """The two reports of the month-end call above, handed to a shard in the same batch."""
    world, ports = chain
    ports.clock.set(datetime(2026, 12, 1, 0, 1, tzinfo=MSK))
    reports = [
        FinishedCall(
            world.ids["customer"],
            "c0ffee-0110",
            65,
            "74951234567",
            "outbound",
            True,
            to_gregorian_seconds(int(ended.timestamp())),
        )
        for ended in (datetime(2026, 11, 30, 23, 59, 58, tzinfo=MSK), datetime(2026, 12, 1, 0, 0, 3, tzinfo=MSK))
    ]
    names = [e.name for e in in_a_batch_of(ports, reports) if e.name.startswith("call_")]
    assert sorted(names) == sorted(["call_charged"] * 3 + ["call_duplicate"] * 3)
    assert len(debits(world.store, world.ids["customer"])) == 1


def test_a_batch_charges_each_call_at_each_level_as_one_by_one_would(chain):
    world, ports = chain
    calls = [call(world, call_id=f"c0ffee-03{n:02d}", seconds=30 + 7 * n) for n in range(12)]
    calls += [call(world, call_id="c0ffee-0399", number="4420123")]  # unrated at every level
    events = in_a_batch_of(ports, calls)
    assert sum(e.name == "call_charged" for e in events) == 12 * 3
    assert sum(e.name == "call_unrated" for e in events) == 3
    customer_debits = debits(world.store, world.ids["customer"])
    rate = parse_rate({"prefix": "7495", "rate_cost": "0.20", "rate_increment": 6, "rate_minimum": 30})
    assert sum(amount for amount, *_ in customer_debits.values()) == sum(
        call_cost(rate, 30 + 7 * n).amount for n in range(12)
    )
    assert in_a_batch_of(ports, calls[:4]) and all(  # delivered again: nothing more
        e.name != "call_charged" for e in in_a_batch_of(ports, calls)
    )
    assert debits(world.store, world.ids["customer"]) == customer_debits


def test_a_batch_that_fails_midway_is_rated_again_one_by_one_and_charges_each_call_once(chain, monkeypatch):
    """Whatever stops the batch's rating after some debits are written (here: a bug in telling
    what was written), the calls are rated again one by one: those written are found, the rest
    charged, nothing twice."""
    from bookkeeper.services.rating import batch_rating

    world, ports = chain
    real = batch_rating.debit_outcome
    seen = []

    def fails_after_the_first_write(debit, *, charged):
        seen.append(debit.call_id)
        if len(seen) == 2:
            raise RuntimeError("a bug after the first write")
        return real(debit, charged=charged)

    monkeypatch.setattr(batch_rating, "debit_outcome", fails_after_the_first_write)
    calls = [call(world, call_id=f"c0ffee-04{n:02d}", seconds=60) for n in range(5)]
    outcome = rate_calls(ports, calls)
    assert not outcome.failed and not outcome.not_done and len(outcome.done) == 5
    for account in ("customer", "sub", "reseller"):
        assert len(debits(world.store, world.ids[account])) == 5, account
    assert sum(e.name in ("call_charged", "call_duplicate") for e in outcome.events) == 15


def in_a_batch_of(ports, calls):
    outcome = rate_calls(ports, calls)
    assert not outcome.failed and not outcome.not_done
    return list(outcome.events)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    funds=st.integers(0, 60_000),
    credit=st.sampled_from([0, 5_000, 40_000]),
    threshold=st.sampled_from([None, 10_000, 50_000]),
    seconds=st.lists(st.integers(1, 600), min_size=1, max_size=6),
)
def test_after_a_batch_a_whole_pass_finds_no_standing_or_top_up_left_to_decide(
    tmp_path_factory, funds, credit, threshold, seconds
):
    """A batch re-evaluates only the accounts its debits may have moved (batch_rating
    _standing_holds); for the rest it trusts the standing kept. Whatever the funds, credit line
    and auto top-up threshold, a whole pass afterwards decides nothing new: no block, no
    delinquency, no top-up."""
    from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
    from bookkeeper.services.billing.account_pass import reconcile_account

    store = EmbeddedStore(tmp_path_factory.mktemp("standing") / "k.sqlite3")
    world = ApiWorld(store).build()
    customer, sub = world.ids["customer"], world.ids["sub"]
    set_onbill(store, sub, currency="EUR", default_rate_deck="retail", blocking_enabled=True)
    import_rate_deck(store, sub, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7,37.00,6,30"])
    limits = store.get(account_db(customer), "limits")
    store.put(account_db(customer), {**limits, "pvt_allow_postpay": bool(credit), "pvt_max_postpay_amount": credit})
    if threshold:
        store.put(
            account_db(customer), {"_id": AUTO_TOPUP_DOC_ID, "enabled": True, "threshold": threshold, "amount": 1}
        )
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 10, 15, 31, tzinfo=MSK)), world.world.design_docs)
    store.ensure_database(account_modb(customer, 2026, 11))
    created = to_gregorian_seconds(int(datetime(2026, 11, 10, 12, 0, tzinfo=MSK).timestamp()))
    store.put(
        account_modb(customer, 2026, 11), ledger_doc(customer, 2026, 11, "wire", "credit", funds, "payment", created)
    )
    reconcile_account(ports, customer)  # the standing the batch starts from
    batch = [call(world, call_id=f"call-{n}", seconds=s) for n, s in enumerate(seconds)]
    assert not rate_calls(ports, batch).failed
    left = {e.name for e in reconcile_account(ports, customer)}
    assert not left & {"became_delinquent", "blocked", "restored_good_standing", "unblocked", "topup_queued"}
    store.close()


def in_good_standing_with_ample_credit(world, ports, account_id):
    """A standing a call's debits leave as it is, so that no whole pass after a batch reads the
    balance again (batch_rating._standing_holds)."""
    db = account_db(account_id)
    limits = world.store.get_many(db, ["limits"]).get("limits") or {"_id": "limits"}
    world.store.put(db, {**limits, "pvt_allow_postpay": True, "pvt_max_postpay_amount": 10**12})
    assert not bill_accounts(ports, [account_id]).failed
    assert world.store.get(db, "kazbill_standing")["status"] == "good_standing"


class DebitedMeanwhile:
    """The store, where a sub-account's call rated by another shard debits `reseller` just as this
    batch writes its own debits into the reseller's month."""

    def __init__(self, store, reseller: str):
        self.inner, self.reseller, self.debited = store, reseller, False  # not `backing`: see store_identity

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def bulk_put(self, db, docs):
        if not self.debited and db == account_modb(self.reseller, 2026, 11):
            self.debited = True
            created = to_gregorian_seconds(int(ENDED.timestamp()))
            self.inner.put(db, ledger_doc(self.reseller, 2026, 11, "other-shard", "debit", 7_777, "call", created))
        return self.inner.bulk_put(db, docs)


def test_a_reseller_debited_by_another_shard_meanwhile_is_listed_with_that_debit_too(chain):
    """A batch takes an account's balance before its writes and adds its own (batch_rating
    _settle), but not a reseller's: its sub-accounts' calls are rated by other shards at the same
    time, and a balance read before the writes would miss theirs."""
    from bookkeeper.services.billing.directory import DIRECTORY_DB
    from bookkeeper.services.billing.ledger_book import LedgerBook

    world, ports = chain
    sub = world.ids["sub"]
    in_good_standing_with_ample_credit(world, ports, sub)
    racing = BillingPorts(DebitedMeanwhile(world.store, sub), ports.clock, ports.design_docs)
    assert not rate_calls(racing, [call(world, call_id="c0ffee-0500")]).failed
    assert racing.store.debited
    now = to_gregorian_seconds(int(ports.clock.now().timestamp()))
    live = LedgerBook(world.store, ports.design_docs).current_balance(sub, now)
    assert world.store.get(DIRECTORY_DB, sub)["balance"] == live


class WritesUnconfirmed:
    """A cluster's write of a debit that stands in the ledger but comes back unconfirmed (a 202
    whose check found the document already there): reported as not written."""

    def __init__(self, store, db):
        self.inner, self.db = store, db  # not `backing`: see store_identity

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def bulk_put(self, db, docs):
        results = self.inner.bulk_put(db, docs)
        if db != self.db:
            return results
        return [BulkResult(r.id, r.rev, "conflict", "unconfirmed") if "-call-" in r.id else r for r in results]


def test_a_debit_written_but_reported_unwritten_is_in_the_listed_balance(chain):
    """The batch moves a balance read before its writes only by the debits reported written; one
    in the ledger but reported otherwise makes it read the balance after the writes instead."""
    from bookkeeper.services.billing.directory import DIRECTORY_DB
    from bookkeeper.services.billing.ledger_book import LedgerBook

    world, ports = chain
    customer = world.ids["customer"]
    in_good_standing_with_ample_credit(world, ports, customer)
    unconfirmed = WritesUnconfirmed(world.store, account_modb(customer, 2026, 11))
    assert not rate_calls(
        BillingPorts(unconfirmed, ports.clock, ports.design_docs), [call(world, call_id="c0ffee-0600")]
    ).failed
    now = to_gregorian_seconds(int(ports.clock.now().timestamp()))
    live = LedgerBook(world.store, ports.design_docs).current_balance(customer, now)
    assert debits(world.store, customer)  # the debit stands
    assert world.store.get(DIRECTORY_DB, customer)["balance"] == live


@pytest.mark.parametrize("at_once", [1, 4])
def test_a_batch_whose_accounts_are_settled_several_at_a_time_charges_each_level_once(chain, at_once, monkeypatch):
    """On CouchDB a shard settles a batch's accounts `passes_at_once` at a time (batch_rating.py):
    the customer, its reseller and theirs in threads of their own, each ledger written by one
    thread at a time. Rated together (charge_calls itself: rate_calls would hide a failure by
    rating the calls again one by one)."""
    world, ports = chain
    ports = replace(ports, passes_at_once=at_once)
    writing: dict[str, int] = {}
    overlaps: list[str] = []
    guard = threading.Lock()
    write = LedgerBook.write

    def one_writer_an_account(self, account_id, *args, **kwargs):
        with guard:
            writing[account_id] = writing.get(account_id, 0) + 1
            if writing[account_id] > 1:
                overlaps.append(account_id)
        try:
            time.sleep(0.05)  # long enough for another thread on the same account to be seen
            return write(self, account_id, *args, **kwargs)
        finally:
            with guard:
                writing[account_id] -= 1

    monkeypatch.setattr(LedgerBook, "write", one_writer_an_account)
    c1, c2 = call(world, call_id="c0ffee-0401"), call(world, call_id="c0ffee-0402")
    own = call(world, call_id="c0ffee-0403", account="sub")  # the sub-reseller's own call
    per_call, _ = charge_calls(ports, [c1, c2, own, c1])
    assert [[e.name for e in events if e.name.startswith("call_")] for events in per_call] == [
        ["call_charged"] * 3,
        ["call_charged"] * 3,
        ["call_charged"] * 2,
        ["call_duplicate"] * 3,
    ]
    assert not overlaps
    entry = "202611-kazbill-call-c0ffee-04"
    assert debits(world.store, world.ids["customer"]) == {
        f"{entry}01": (4_200, "EUR", VOIP, "per_minute_call"),
        f"{entry}02": (4_200, "EUR", VOIP, "per_minute_call"),
    }
    assert debits(world.store, world.ids["sub"]) == {
        f"{entry}01": (189_000, "RUB", VOIP, "sub_account_per_minute_call"),
        f"{entry}02": (189_000, "RUB", VOIP, "sub_account_per_minute_call"),
        f"{entry}03": (189_000, "RUB", VOIP, "per_minute_call"),  # at the reseller's wholesale rate
    }
    assert debits(world.store, world.ids["reseller"]) == {
        f"{entry}0{n}": (1_050, "USD", VOIP, "sub_account_per_minute_call") for n in (1, 2, 3)
    }
    again, _ = charge_calls(ports, [own, c2, c1])
    assert {e.name for events in again for e in events if e.name.startswith("call_")} == {"call_duplicate"}


def test_merged_batches_whose_rating_together_fails_are_rated_batch_by_batch(chain, monkeypatch):
    """A shard's merged work (actors/work_merging.py) names its batches' sizes: if rating them
    together fails, each batch is rated on its own, not every call one by one."""
    world, ports = chain
    calls = [call(world, call_id=f"c0ffee-05{n:02d}") for n in range(5)]
    together = call_batches.charge_calls

    def failing_when_merged(ports, batch):
        if len(batch) == len(calls):
            raise RuntimeError("a bug met only by the merged batch")
        return together(ports, batch)

    monkeypatch.setattr(call_batches, "charge_calls", failing_when_merged)
    monkeypatch.setattr(call_batches, "_one_by_one", lambda *_: pytest.fail("rated one by one"))
    outcome = rate_calls(ports, calls, parts=(2, 3))
    assert outcome.done == (world.ids["customer"],) * 5 and not outcome.failed and not outcome.not_done
    assert sum(e.name == "call_charged" for e in outcome.events) == 5 * 3
    assert len(debits(world.store, world.ids["customer"])) == 5


def test_merged_batches_are_handed_back_whole_once_the_store_is_gone(chain, monkeypatch):
    world, ports = chain
    calls = [call(world, call_id=f"c0ffee-06{n:02d}") for n in range(5)]
    asked: list[int] = []

    def store_gone(ports, batch):
        asked.append(len(batch))
        if len(batch) == len(calls):
            raise RuntimeError("a bug met only by the merged batch")
        raise StoreUnavailable("http://couchdb.example:5984", "connection refused")

    monkeypatch.setattr(call_batches, "charge_calls", store_gone)
    monkeypatch.setattr(call_batches, "store_answers", lambda store: False)
    outcome = rate_calls(ports, calls, parts=(2, 3))
    assert outcome.not_done == (world.ids["customer"],) * 5 and not outcome.done and not outcome.failed
    assert asked == [5, 2]  # the second batch is handed back untried
