"""The bookkeeper's handlers on both stores, with worked examples a reseller would state."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.domain.proration import remaining_share
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.postings import apply_payment
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries  # noqa: F401

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")


DAILY_PHONES = {**RESELLER_ONBILL, "charging": {"devices": "daily"}}


def one_customer(store, name: str, *, created: datetime, devices: int, at: datetime, onbill=RESELLER_ONBILL):
    """A reseller on the office plan (`onbill`: its settings), one customer billed from the 1st
    with a generous credit line, and the ports on a settable clock at `at`."""
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
    customer = world.customer(name, created=created, onbill={"billing_day": 1}, limits=GENEROUS, devices=devices)
    clock = SettableClock(at)
    return world, customer, clock, BillingPorts(store, clock, world.design_docs)


def crawl(ports, clock, account_id, first: date, last: date):
    events, day = [], first
    while day <= last:
        clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
        events += crawl_account_day(ports, account_id, day)
        day += timedelta(days=1)
    return events


def test_a_fourth_device_on_2_march_then_the_daily_crawl_to_14_april(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Alpha Taxi", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 15}, limits=GENEROUS, devices=3
    )
    clock = SettableClock(datetime(2026, 2, 15, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)

    crawl(ports, clock, customer, date(2026, 2, 15), date(2026, 3, 1))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    world.add_devices(customer, 1, created=clock.now())
    events = reconcile_account(ports, customer)
    assert [(e.name, e.details.get("amount")) for e in events] == [("charged", 2_321_428)]
    assert reconcile_account(ports, customer) == []  # the same change seen again: already charged
    crawl(ports, clock, customer, date(2026, 3, 2), date(2026, 4, 14))

    assert kazbill_entries(store, customer, [(2026, 2), (2026, 3), (2026, 4)]) == {
        "202602-kazbill-mrc-20260215-devices-sip_device-q3": ("debit", 15_000_000),  # 3 × 500.00 for 15 Feb..14 Mar
        "202603-kazbill-mrc-20260215-devices-sip_device-q4": ("debit", 2_321_428),  # the 4th, 13 of 28 days
        "202603-kazbill-mrc-20260315-devices-sip_device-q4": ("debit", 20_000_000),  # 4 × 500.00 for 15 Mar..14 Apr
    }
    rollovers = {
        entry_id: entry
        for entry_id, entry in kazbill_entries(store, customer, [(2026, 3), (2026, 4)], rollovers=True).items()
        if "rollover" in entry_id
    }
    assert rollovers == {
        "202602-ledgers_monthly_rollover": ("credit", 0),  # its first month: zero, as Kazoo writes
        "202603-ledgers_monthly_rollover": ("debit", 15_000_000),  # February carried into March
        "202604-ledgers_monthly_rollover": ("debit", 37_321_428),
    }
    book = LedgerBook(store, world.design_docs)
    assert book.balance(customer, (2026, 4), 0) == -37_321_428
    marker = store.get(account_modb(customer, 2026, 3), "202603-kazbill-period-20260315")
    assert (marker["status"], marker["opening_balance"], marker["items"]) == (
        "open",
        -17_321_428,
        [{"category": "devices", "item": "sip_device", "quantity": 4, "rate": 5_000_000, "monthly": 20_000_000}],
    )


def test_crawling_the_same_day_twice_charges_once(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Beta Clinic", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    first = crawl_account_day(ports, customer, date(2026, 11, 1))
    assert [e.name for e in first] == ["charged", "period_opened"]
    assert crawl_account_day(ports, customer, date(2026, 11, 1)) == []
    # 00:05 on 1 November in Moscow is 21:05 on 31 October in UTC: Kazoo's October takes it.
    assert kazbill_entries(store, customer, [(2026, 11)]) == {
        "202610-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 10_000_000)
    }


def test_a_prepay_account_that_cannot_pay_its_period_loses_its_trunks_then_goes_delinquent(store):
    plan = {
        "_id": "plan_office",
        "name": "Office",
        "plan": {"devices": {"sip_device": {"rate": 500}}, "limits": {"twoway_trunks": {"rate": 300}}},
    }
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=plan)
    customer = world.customer(
        "Gamma Shop",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits={"twoway_trunks": 2, "pvt_allow_postpay": True, "pvt_max_postpay_amount": 7_000_000},
        devices=2,
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    events = crawl_account_day(BillingPorts(store, clock, world.design_docs), customer, date(2026, 11, 1))
    # 2 devices (1,000) + 2 trunks (600) = 1,600 RUB > 700 RUB of credit: trunks go, 1,000 still too much.
    assert [e.name for e in events] == ["services_cancelled", "period_pending", "became_delinquent"]
    # Named for the notice in the account's language (Russian: the reseller's locale); the plan
    # gives the trunks no Russian name, so Kazbill's words.
    assert events[0].details == {"items": [["limits", "twoway_trunks"]], "names": ["двусторонние транки"]}
    assert store.get(account_db(customer), "limits")["twoway_trunks"] == 0
    assert kazbill_entries(store, customer, [(2026, 11)]) == {}
    # What the customer is told to pay: 1,000 RUB of phones beyond the 700 RUB of credit.
    assert store.get(account_db(customer), "kazbill_standing")["amount_to_restore"] == 3_000_000
    ports = BillingPorts(store, clock, world.design_docs)
    paid = apply_payment(ports, customer, amount=2_999_999, reason="wire_transfer", external_id="short-by-one")
    assert "period_opened" not in [e.name for e in paid]
    assert store.get(account_db(customer), "kazbill_standing")["amount_to_restore"] == 1
    paid = apply_payment(ports, customer, amount=1, reason="wire_transfer", external_id="the-last-unit")
    assert "period_opened" in [e.name for e in paid]
    standing = store.get(account_db(customer), "kazbill_standing")
    assert (standing["status"], standing["amount_to_restore"]) == ("good_standing", 0)


def test_an_account_that_can_pay_after_cancelling_its_trunks_is_charged_for_the_rest(store):
    plan = {
        "_id": "plan_office",
        "name": "Office",
        "plan": {"devices": {"sip_device": {"rate": 500}}, "limits": {"twoway_trunks": {"rate": 300}}},
    }
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=plan)
    customer = world.customer(
        "Delta Bar",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits={"twoway_trunks": 2, "pvt_allow_postpay": True, "pvt_max_postpay_amount": 12_000_000},
        devices=2,
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    events = crawl_account_day(BillingPorts(store, clock, world.design_docs), customer, date(2026, 11, 1))
    assert [e.name for e in events] == ["services_cancelled", "charged", "period_opened"]
    # 00:05 on 1 November in Moscow is 21:05 on 31 October in UTC: Kazoo's October takes it.
    assert kazbill_entries(store, customer, [(2026, 11)]) == {
        "202610-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 10_000_000)
    }


def test_a_daily_fee_category_is_charged_every_day_and_sums_to_the_month(store):
    _, customer, clock, ports = one_customer(
        store,
        "Eta Cafe",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=3,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl(ports, clock, customer, date(2026, 12, 1), date(2026, 12, 31))
    entries = kazbill_entries(store, customer, [(2026, 12)])
    assert len(entries) == 31 and sum(amount for _, amount in entries.values()) == 15_000_000


def test_a_phone_deleted_on_a_day_whose_midnight_was_missed_still_owes_that_day(store):
    # Daily phones at 500.00 a month, December (31 days): two phones 1,000.00 ÷ 31 = 32.2581 a
    # day (the month's remainder spread over its first days), one phone 16.1291. The service was
    # away from the 1st's evening to the 2nd's afternoon; at 15:00 on the 2nd one of the two
    # phones was deleted. The 2nd began with two phones: both are owed for it, though the first
    # pass of the day only sees one.
    _, customer, clock, ports = one_customer(
        store,
        "Kappa Bakery",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl_account_day(ports, customer, date(2026, 12, 1))
    db = account_db(customer)
    phone = store.get(db, f"device{1:026d}")
    store.put(db, {**phone, "pvt_deleted": True, "pvt_modified": gregorian(datetime(2026, 12, 2, 15, 0, tzinfo=MSK))})
    clock.set(datetime(2026, 12, 2, 15, 5, tzinfo=MSK))
    reconcile_account(ports, customer)  # the deletion's change: the 2nd's first pass
    crawl_account_day(ports, customer, date(2026, 12, 2))  # the catch-up crawl: nothing more
    entries = kazbill_entries(store, customer, [(2026, 12)])
    assert {entry_id: amount for entry_id, (_, amount) in entries.items() if "-20261202-" in entry_id} == {
        "202612-kazbill-daily-20261202-devices-sip_device-q2": 322_581
    }
    clock.set(datetime(2026, 12, 3, 0, 5, tzinfo=MSK))
    crawl_account_day(ports, customer, date(2026, 12, 3))  # the 3rd began with one phone
    assert {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, [(2026, 12)]).items()
        if "-20261203-" in entry_id
    } == {"202612-kazbill-daily-20261203-devices-sip_device-q1": 161_291}


def test_a_catch_up_crawl_charges_nothing_for_the_days_before_the_account_existed(store):
    # The service was down from 10 to 20 December; Theta Bar signed up on the 15th with two phones
    # billed daily. Catching up crawls 10..20 for every account: Theta owes the 15th to the 20th only.
    _, customer, clock, ports = one_customer(
        store,
        "Theta Bar",
        created=datetime(2026, 12, 15, 11, 0, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 20, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    for day in range(10, 21):
        crawl_account_day(ports, customer, date(2026, 12, day))
    days = sorted(entry_id.split("-")[3] for entry_id in kazbill_entries(store, customer, [(2026, 12)]))
    assert days == [f"202612{day}" for day in range(15, 21)]


def test_an_account_not_yet_copied_to_accounts_is_billed_from_its_own_document(store):
    # Kazoo saves a new account in its own database first and copies it to `accounts` after; the
    # change feed can bring the first write alone. Not an unknown account: Kazoo reads that copy.
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Iota Print",
        created=datetime(2026, 11, 1, 0, 1, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits=GENEROUS,
        devices=1,
    )
    listed = store.get(ACCOUNTS_DB, customer)
    store.delete(ACCOUNTS_DB, customer, listed["_rev"])
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    events = reconcile_account(BillingPorts(store, clock, world.design_docs), customer)
    assert "billing_failed" not in [e.name for e in events]
    assert kazbill_entries(store, customer, [(2026, 11)]) == {  # Kazoo's October, in UTC
        "202610-kazbill-mrc-20261101-devices-sip_device-q1": ("debit", 5_000_000)
    }


def test_an_unknown_account_is_a_recorded_failure_and_no_entry(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    events = reconcile_account(BillingPorts(store, clock, world.design_docs), "0" * 32)
    assert [(e.name, e.details["field"]) for e in events] == [("billing_failed", "account")]
    failures = store.query_view(
        "kazbill_failures", "kazbill_failures", "by_account", ViewQuery(start_key=["0" * 32], end_key=["0" * 32, {}])
    )
    assert failures.values() == ["bad_billing_input"]


def test_a_period_opened_late_charges_a_first_phone_from_the_day_it_came_not_the_whole_month(store):
    """No phone when November began; one added on 10 November; the service away until the 12th,
    when the period opens. The opening must price what was held when the period began (none),
    and the phone from its own day: the last 21 of 30 daily shares of 500.00, 349.9997 (the
    month's 5,000,000 units split into whole-unit days, the remainder on the first ones).
    (A category held at none at the period's start was taken as it is now, and the phone was
    charged the full month.)"""
    world, customer, clock, ports = one_customer(
        store,
        "Zeta Bakery",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=0,
        at=datetime(2026, 11, 12, 0, 5, tzinfo=MSK),
    )
    world.add_devices(customer, 1, created=datetime(2026, 11, 10, 15, 0, tzinfo=MSK))
    crawl_account_day(ports, customer, date(2026, 11, 12))
    charged = {entry_id: amount for entry_id, (kind, amount) in kazbill_entries(store, customer, [(2026, 11)]).items()}
    assert charged == {"202611-kazbill-mrc-20261101-devices-sip_device-q1": 3_499_997}
    assert remaining_share(5_000_000, 30, 9) == 3_499_997
