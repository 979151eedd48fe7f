"""Documents the bookkeeper cannot bill by: a clear error naming the account and the field,
no entry written, and the failure kept for the operator. And Kazoo's cascade items."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import SERVICES_DB, account_db
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.billing.ledger_book import LedgerBook
from testkit.fixtures.billing_world import World, gregorian
from tests.integration.test_billing_worked_examples import (
    GENEROUS,
    MSK,
    OFFICE_PLAN,
    RESELLER_ONBILL,
    kazbill_entries,
    one_customer,
)

pytestmark = pytest.mark.integration


def failures_of(store, account_id):
    rows = store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[account_id], end_key=[account_id, {}], include_docs=True),
    ).rows
    return [(row.doc["field"], row.doc["reason"]) for row in rows]


@pytest.mark.parametrize(
    "break_it, field, words, whose",
    [
        (
            lambda w, c: w.store.put(
                account_db(c), {**w.store.get(account_db(c), "onbill"), "billing_day": "fifteenth"}
            ),
            "onbill.billing_day",
            "billing day",
            "customer",
        ),
        (
            lambda w, c: w.store.put(
                account_db(w.reseller), {**w.store.get(account_db(w.reseller), "onbill"), "currency": "XYZ"}
            ),
            "onbill.currency",
            "XYZ",
            "reseller",
        ),
        (
            lambda w, c: w.store.put(
                account_db(w.reseller),
                {
                    **w.store.get(account_db(w.reseller), "plan_office"),
                    "plan": {"devices": {"sip_device": {"name": "no price"}}},
                },
            ),
            "service_plan plan_office: plan.devices.sip_device.rate",
            "no rate",
            "customer",
        ),
        (
            lambda w, c: w.store.put(
                account_db(w.reseller),
                {
                    **w.store.get(account_db(w.reseller), "plan_office"),
                    "plan": {"devcies": {"sip_device": {"rate": 5}}},
                },
            ),
            "service_plan plan_office: plan.devcies",
            "unknown category",
            "customer",
        ),
        (
            lambda w, c: w.store.put(SERVICES_DB, {**w.store.get(SERVICES_DB, c), "pvt_reseller_id": "e" * 32}),
            "services.pvt_reseller_id",
            "does not exist",
            "customer",
        ),
    ],
)
def test_a_document_that_cannot_be_billed_by_is_refused_recorded_and_charges_nothing(
    store, break_it, field, words, whose
):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Broken Ltd", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    break_it(world, customer)
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK)), world.design_docs)
    events = crawl_account_day(ports, customer, date(2026, 11, 1))
    assert [(e.name, e.details["field"]) for e in events] == [("billing_failed", field)]
    assert words in events[0].details["reason"]
    (recorded,) = failures_of(store, customer)
    named = {"customer": customer, "reseller": world.reseller}[whose]  # the account whose document is wrong
    assert recorded[0] == field and f"account {named}" in recorded[1]
    assert kazbill_entries(store, customer, [(2026, 11)]) == {}
    # Recorded once, however often the crawl meets it.
    crawl_account_day(ports, customer, date(2026, 11, 1))
    assert len(failures_of(store, customer)) == 1


def test_a_cascade_item_counts_the_devices_of_every_account_below(store):
    plan = {
        "_id": "plan_office",
        "name": "Wholesale",
        "plan": {"devices": {"sip_device": {"rate": 10, "cascade": True}}},
    }
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=plan)
    customer = world.customer(
        "Parent Co", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    for n, count in enumerate((2, 3)):  # two accounts below the customer
        child = world.customer(f"Child {n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, devices=count)
        doc = store.get("accounts", child)
        store.put("accounts", {**doc, "pvt_tree": [world.master, world.reseller, customer]})
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK)), world.design_docs)
    crawl_account_day(ports, customer, date(2026, 11, 1))
    assert kazbill_entries(store, customer, [(2026, 11)]) == {
        "202610-kazbill-mrc-20261101-devices-sip_device-q6": ("debit", 600_000)
    }  # 1 + 2 + 3 devices × 10.00


def test_the_balance_at_an_instant_counts_what_was_written_until_then(store):
    world, customer, clock, ports = one_customer(
        store,
        "Clock Co",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=1,
        at=datetime(2026, 11, 1, 0, 5, tzinfo=MSK),
    )
    crawl_account_day(ports, customer, date(2026, 11, 1))
    clock.set(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    world.add_devices(customer, 1, created=clock.now())
    reconcile_account(ports, customer)
    book = LedgerBook(store, world.design_docs)
    assert book.balance_at(customer, gregorian(datetime(2026, 11, 5, tzinfo=MSK))) == -5_000_000
    # The second device for 21 of 30 days: 6,999,994 - 3,499,997 of the two months' daily shares.
    assert book.balance_at(customer, gregorian(datetime(2026, 11, 11, tzinfo=MSK))) == -5_000_000 - 3_499_997
