"""A reseller's revenue of a month from the accounts' month figures in the directory, on both
stores: after the passes it is what each account's monthly database adds up to; a pass that
moved no money refreshes nothing; a call is in the figures from its account's next pass; the
first pass of a month completes the month before (its last calls came after its last pass)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from bookkeeper.domain.month_figures import figures_id
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.directory import DIRECTORY_DB
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.operations.revenue import CurrencyRevenue, add_up_month, revenue_below
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.api_world import MSK, ApiWorld
from testkit.fixtures.billing_world import gregorian
from testkit.fixtures.kazoo_docs import ledger_doc

pytestmark = pytest.mark.integration
NOVEMBER, DECEMBER = (2026, 11), (2026, 12)
BELOW_RESELLER = ("sub", "customer", "customer_two")
BILLED = (*BELOW_RESELLER, "other_reseller", "other_customer")


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=MSK)


def build(store) -> tuple[ApiWorld, SettableClock, BillingPorts]:
    world = ApiWorld(store).build()
    world.world.add_devices(world.ids["customer_two"], 2)
    for reseller in ("reseller", "sub"):
        db = account_db(world.ids[reseller])
        world.store.put(db, {**world.store.get(db, "onbill"), "default_rate_deck": "retail"})
        import_rate_deck(
            world.store, world.ids[reseller], "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7,1.20,60,60"]
        )
    clock = SettableClock(at(10, 12))
    ports = BillingPorts(store, clock, world.world.design_docs)
    assert not bill_accounts(ports, [world.ids[name] for name in BILLED]).failed
    return world, clock, ports


def call(world, name: str, n: int, seconds: int, ended: datetime) -> FinishedCall:
    gregorian = to_gregorian_seconds(int(ended.timestamp()))
    return FinishedCall(world.ids[name], f"fig-{name}-{n}", seconds, "74951234567", "outbound", True, gregorian)


def live_revenue(world, names, month) -> dict[str, CurrencyRevenue]:
    """The oracle: each account's monthly database summed by the view, added up per currency."""
    sums: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for name in names:
        currency = world.store.get(DIRECTORY_DB, world.ids[name])["currency"]
        try:
            rows = world.store.query_view(
                account_modb(world.ids[name], *month),
                "kazbill_ledgers",
                "balance_by_category",
                ViewQuery(group_level=2),
            ).rows
        except DatabaseNotFound:
            continue
        for row in rows:
            sums[currency][tuple(row.key)] += row.value
    found = {}
    for currency, by_key in sums.items():
        found[currency] = CurrencyRevenue(currency)
        add_up_month(found[currency], dict(by_key))
    return found


def figures(world, above: str, month) -> dict[str, CurrencyRevenue]:
    return {found.currency: found for found in revenue_below(world.store, world.ids[above], month)}


def test_after_the_passes_the_month_is_what_the_accounts_databases_add_up_to(store):
    world, _, _ = build(store)
    found = figures(world, "reseller", NOVEMBER)
    assert found == live_revenue(world, BELOW_RESELLER, NOVEMBER)
    assert found["RUB"].by_category == {"devices": 2 * 500 * 10_000}  # Customer Two's two phones, the whole month
    assert figures(world, "other_reseller", NOVEMBER) == live_revenue(world, ["other_customer"], NOVEMBER)
    assert figures(world, "customer", NOVEMBER) == {}  # nothing below a customer


def test_a_pass_that_moved_no_money_leaves_the_figures_as_they_were(store):
    world, _, ports = build(store)
    doc_id = figures_id(world.ids["customer_two"], NOVEMBER)
    before = world.store.get(DIRECTORY_DB, doc_id)["_rev"]
    bill_accounts(ports, [world.ids["customer_two"]])
    assert world.store.get(DIRECTORY_DB, doc_id)["_rev"] == before


def test_calls_are_in_the_figures_from_their_accounts_next_pass(store):
    world, clock, ports = build(store)
    clock.set(at(12, 12))
    assert not rate_calls(ports, [call(world, "customer_two", n, 61, at(12, 11)) for n in range(3)]).failed
    assert "per-minute-voip" not in figures(world, "reseller", NOVEMBER)["RUB"].billed  # as of the last pass
    bill_accounts(ports, [world.ids["customer_two"]])
    found = figures(world, "reseller", NOVEMBER)
    assert found["RUB"].billed["per-minute-voip"] == found["RUB"].by_category["calls"] == 3 * 2 * 12_000
    assert found == live_revenue(world, BELOW_RESELLER, NOVEMBER)


def test_the_first_pass_of_a_month_completes_the_month_before(store):
    world, clock, ports = build(store)
    clock.set(at(30, 23))
    bill_accounts(ports, [world.ids["customer_two"]])
    clock.set(at(1, 0, month=12))  # a call that ended at 23:30 on the 30th, rated after midnight
    assert not rate_calls(ports, [call(world, "customer_two", 1, 30, at(30, 23))]).failed
    clock.set(at(1, 9, month=12))
    bill_accounts(ports, [world.ids["customer_two"]])
    assert figures(world, "reseller", NOVEMBER) == live_revenue(world, BELOW_RESELLER, NOVEMBER)
    assert figures(world, "reseller", NOVEMBER)["RUB"].by_category["calls"] == 12_000


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["call", "phones", "payment", "pass"]), st.sampled_from(BELOW_RESELLER), st.integers(1, 3)
        ),
        max_size=8,
    )
)
def test_whatever_happened_the_figures_after_every_accounts_pass_are_the_live_sums(store, steps):
    world, clock, ports = build(store)
    for n, (kind, name, count) in enumerate(steps):
        clock.set(at(11 + n, 10))
        if kind == "call":
            rate_calls(ports, [call(world, name, 100 * n + k, 45 * count, at(11 + n, 9)) for k in range(count)])
        elif kind == "phones":
            world.world.add_devices(world.ids[name], count, created=clock.now())
        elif kind == "payment":  # money Kazoo took in itself, written as Kazoo writes it
            db = account_modb(world.ids[name], *NOVEMBER)
            world.store.ensure_database(db)
            world.store.put(
                db,
                ledger_doc(
                    world.ids[name], 2026, 11, f"pay-{n}", "credit", 10_000 * count, "payments", gregorian(clock.now())
                ),
            )
        else:
            bill_accounts(ports, [world.ids[name]])
    clock.set(at(25, 10))
    bill_accounts(ports, [world.ids[name] for name in BELOW_RESELLER])
    assert figures(world, "reseller", NOVEMBER) == live_revenue(world, BELOW_RESELLER, NOVEMBER)


def test_money_that_moved_both_ways_in_one_pass_is_read_again_though_the_balance_did_not_move(store):
    from bookkeeper.domain.month_figures import FIGURES_DUE
    from bookkeeper.services.billing.directory import write_summaries

    world, _, _ = build(store)
    account = world.ids["customer_two"]
    db = account_modb(account, *NOVEMBER)
    at_pass = gregorian(at(12, 12))
    world.store.bulk_put(  # a payment and the fee it paid: the balance is where it was
        db,
        [
            ledger_doc(account, 2026, 11, "pay-even", "credit", 70_000, "payments", at_pass),
            ledger_doc(account, 2026, 11, "fee-even", "debit", 70_000, "services", at_pass),
        ],
    )
    summary = world.store.get(DIRECTORY_DB, account)
    write_summaries(world.store, [summary])  # a pass that wrote nothing: nothing to read again
    assert "payments" not in figures(world, "reseller", NOVEMBER)["RUB"].collected
    write_summaries(world.store, [{**summary, FIGURES_DUE: True}])  # the pass that wrote them
    assert figures(world, "reseller", NOVEMBER) == live_revenue(world, BELOW_RESELLER, NOVEMBER)
    assert FIGURES_DUE not in world.store.get(DIRECTORY_DB, account)  # never stored


def test_an_account_moved_to_another_reseller_counts_in_the_new_ones_figures_from_the_next_month(store):
    world, clock, ports = build(store)
    account = world.ids["customer_two"]
    moved_tree = [world.ids["master"], world.ids["other_reseller"]]
    for db in ("accounts", account_db(account)):
        world.store.put(db, {**world.store.get(db, account), "pvt_tree": moved_tree})
    clock.set(at(20, 12))
    bill_accounts(ports, [account])
    assert figures(world, "reseller", NOVEMBER)["RUB"].by_category["devices"] == 2 * 500 * 10_000  # stays
    assert "RUB" not in figures(world, "other_reseller", NOVEMBER)
    clock.set(at(2, 12, month=12))
    bill_accounts(ports, [account])
    assert figures(world, "reseller", NOVEMBER)["RUB"].by_category["devices"] == 2 * 500 * 10_000
    assert account in str(world.store.get(DIRECTORY_DB, figures_id(account, DECEMBER))["account_id"])
    assert world.store.get(DIRECTORY_DB, figures_id(account, DECEMBER))["tree"] == moved_tree
