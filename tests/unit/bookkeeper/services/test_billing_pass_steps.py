"""The billing pass's steps one at a time (services/billing/account_pass), each handed the pass's
inputs and returning what it decided: worked examples on the in-memory store."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import account_db, gregorian_of
from bookkeeper.domain.periods import period_containing
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.billing.account_pass.inputs import PassInputs
from bookkeeper.services.billing.account_pass.opening import marker_id, open_or_resume
from bookkeeper.services.billing.account_pass.pass_ledger import PassLedger
from bookkeeper.services.billing.account_pass.standing import reevaluate_standing
from bookkeeper.services.billing.context import billing_quantities, load_context
from bookkeeper.services.billing.ledger_book import LedgerBook
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

MSK = ZoneInfo("Europe/Moscow")
NOVEMBER_1 = datetime(2026, 11, 1, 0, 5, tzinfo=MSK)


def inputs_for(world: World, account_id: str, at: datetime, day: date) -> PassInputs:
    store = world.store
    context = load_context(store, account_id)
    ports = BillingPorts(store, SettableClock(at), world.design_docs)
    return PassInputs(
        ports,
        context,
        LedgerBook(store, world.design_docs),
        today=day,
        present=day,
        now_gregorian=gregorian_of(at),
        quantities=billing_quantities(store, context),
        crawl=True,
    )


def opening_of_november(world: World, account_id: str):
    inputs = inputs_for(world, account_id, NOVEMBER_1, date(2026, 11, 1))
    ledger = PassLedger(inputs)
    monthly = inputs.prices(inputs.quantities)[0]
    return inputs, ledger, open_or_resume(inputs, ledger, period_containing(1, date(2026, 11, 1)), monthly)


def test_an_account_without_the_money_leaves_its_period_pending_and_says_what_it_would_debit(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Gamma Shop", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    inputs, _, outcome = opening_of_november(world, customer)
    assert [event.name for event in outcome.events] == ["period_pending"]
    assert outcome.charges == [] and outcome.unpaid_charges == 10_000_000  # 2 desk phones × 500.00
    marker = store.get(
        inputs.book.month_db(customer, (2026, 11), create=False) or "",
        marker_id(period_containing(1, date(2026, 11, 1))),
    )
    assert (marker["status"], marker["opening_balance"]) == ("pending", 0)
    assert kazbill_entries(store, customer, [(2026, 11)]) == {}  # nothing debited


def test_a_pending_period_asked_again_stays_pending_with_the_same_amount_and_no_new_event(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Gamma Shop", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    opening_of_november(world, customer)
    _, _, again = opening_of_november(world, customer)
    assert (again.events, again.charges, again.unpaid_charges) == ([], [], 10_000_000)


def test_an_opening_writes_its_entries_itself_and_returns_only_the_events(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Beta Clinic", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    _, ledger, outcome = opening_of_november(world, customer)
    assert [event.name for event in outcome.events] == ["charged", "period_opened"]
    assert outcome.charges == [] and outcome.unpaid_charges is None  # nothing grew since it began
    assert ledger.balance() == -10_000_000
    # 00:05 on 1 November in Moscow is 21:05 on 31 October in UTC: Kazoo's October takes it.
    assert kazbill_entries(store, customer, [(2026, 11)]) == {
        "202610-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 10_000_000)
    }


def test_the_standing_step_turns_a_pending_period_into_delinquency_and_the_amount_to_restore(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Gamma Shop", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    inputs, ledger, outcome = opening_of_november(world, customer)
    events = reevaluate_standing(inputs, ledger, outcome.unpaid_charges)
    assert [event.name for event in events] == ["became_delinquent"]  # this reseller does not block
    standing = store.get(account_db(customer), "kazbill_standing")
    assert (standing["status"], standing["blocked"], standing["amount_to_restore"]) == ("delinquent", False, 10_000_000)
    assert reevaluate_standing(inputs, ledger, outcome.unpaid_charges) == []  # decided already: nothing new


def test_the_whole_pass_hands_back_its_steps_events_in_order_and_a_replay_none(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Gamma Shop", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    ports = BillingPorts(store, SettableClock(NOVEMBER_1), world.design_docs)
    first = crawl_account_day(ports, customer, date(2026, 11, 1))
    assert [event.name for event in first] == ["period_pending", "became_delinquent"]
    assert crawl_account_day(ports, customer, date(2026, 11, 1)) == []
