"""A trial's days are not charged, whatever the trial becomes. One that expires unconverted is
billed from the day after its expiry day, like an account created then: its month prorated
from there (where the reseller prorates new accounts), its daily fees from there. Before, its
first pass after the expiry charged it from the day it was created, trial days included."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.proration import remaining_share
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.payments.postings import apply_payment
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries
from tests.integration.test_billing_worked_examples import DAILY_PHONES, MSK
from tests.integration.test_missed_daily_fees import crawl_days, days_of
from tests.integration.test_missed_days_across_periods import fees_by_day

pytestmark = pytest.mark.integration
THREE_PHONES_A_MONTH = 15_000_000


SIGNED_UP, TRIAL_ENDS = datetime(2026, 11, 20, 10, 0, tzinfo=MSK), datetime(2026, 11, 25, 12, 0, tzinfo=MSK)


def trial_customer(store, onbill, *, created: datetime = SIGNED_UP, expires: datetime = TRIAL_ENDS):
    """Three phones, a trial to `expires` (by default created on 20 November, to noon on the
    25th), nothing paid: it expires unconverted unless a payment converts it."""
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
    customer = world.customer("Trial Cafe", created=created, onbill={}, limits=GENEROUS, devices=3)
    for db in (ACCOUNTS_DB, account_db(customer)):
        store.put(db, {**store.get(db, customer), "pvt_trial_expires": gregorian(expires)})
    clock = SettableClock(created + timedelta(minutes=5))
    ports = BillingPorts(store, clock, world.design_docs)
    reconcile_account(ports, customer)
    return customer, clock, ports


def test_an_expired_trial_pays_its_month_from_the_day_after_its_expiry(store):
    # Created 20 November, trial to noon on the 25th, three phones at 500.00 a month. The crawl
    # of the 26th expires it and opens November from the 26th: 5 of 30 days, 2,500,000 (before,
    # from the 20th: 5,500,000).
    customer, clock, ports = trial_customer(store, RESELLER_ONBILL)
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 21), date(2026, 12, 1)))
    entries = kazbill_entries(store, customer, [(2026, 11), (2026, 12)])
    assert entries["202611-kazbill-mrc-20261101-devices-sip_device-q3"] == (
        "debit",
        remaining_share(THREE_PHONES_A_MONTH, 30, 25),
    )
    assert remaining_share(THREE_PHONES_A_MONTH, 30, 25) == 2_500_000
    assert audit_account(ports, customer, date(2026, 11, 20), date(2026, 12, 1)).differences == []


def test_an_expired_trials_daily_fees_start_the_day_after_its_expiry(store):
    # The same on daily phones: fees from the 26th (the 30th missed by the crawl is charged by
    # the 1 December crawl); none for the 20th to the 25th (before: six, 3,000,000).
    customer, clock, ports = trial_customer(store, DAILY_PHONES)
    crawl_days(ports, clock, customer, [*days_of(date(2026, 11, 21), date(2026, 11, 29)), date(2026, 12, 1)])
    assert sorted(fees_by_day(store, customer)) == days_of(date(2026, 11, 26), date(2026, 12, 1))
    assert audit_account(ports, customer, date(2026, 11, 20), date(2026, 12, 1)).differences == []


def test_an_expired_trials_first_billed_day_missed_by_the_crawl_is_charged_by_the_next(store):
    # The crawl of the 26th (the first billed day) and of the 27th missed the customer. The
    # 28th's crawl opens November and charges the 26th (its billing began then, as a new
    # account's on the day it is created); the 29th's charges the 27th it missed too.
    customer, clock, ports = trial_customer(store, DAILY_PHONES)
    crawl_days(ports, clock, customer, [*days_of(date(2026, 11, 21), date(2026, 11, 25)), date(2026, 11, 28)])
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 29), date(2026, 12, 1)))
    fees = fees_by_day(store, customer)
    assert sorted(fees) == days_of(date(2026, 11, 26), date(2026, 12, 1))
    assert sum(sum(amounts) for day, amounts in fees.items() if day.month == 11) == 5 * 500_000
    assert audit_account(ports, customer, date(2026, 11, 20), date(2026, 12, 1)).differences == []


def test_a_converted_trial_audits_clean_from_its_creation(store):
    # Converted by a payment on the 9th (its billing day since): the audit from the day it was
    # created expects nothing before the 9th (it expected a period from 9 October, prorated
    # from the 2nd: 2,258,065 reported missing).
    customer, clock, ports = trial_customer(
        store,
        RESELLER_ONBILL,
        created=datetime(2026, 11, 2, 10, 0, tzinfo=MSK),
        expires=datetime(2026, 11, 30, 12, 0, tzinfo=MSK),
    )
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 3), date(2026, 11, 8)))
    clock.set(datetime(2026, 11, 9, 15, 0, tzinfo=MSK))
    apply_payment(ports, customer, amount=40_000_000, reason="yandex_money", external_id="op-1")
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 10), date(2026, 12, 10)))
    report = audit_account(ports, customer, date(2026, 11, 2), date(2026, 12, 10))
    assert report.differences == [] and report.expected_total == -2 * THREE_PHONES_A_MONTH


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trial_days=st.integers(0, 20), daily=st.booleans(), missed=st.sets(st.integers(0, 24), max_size=8))
def test_no_charge_is_for_a_day_of_the_trial_and_the_audit_agrees(tmp_path_factory, trial_days, daily, missed):
    """Whatever crawls missed the account (all but the last), no fee is for a trial day, every
    day after is charged once, and the audit finds nothing."""
    store = EmbeddedStore(tmp_path_factory.mktemp("trial") / "k.sqlite3")
    created = datetime(2026, 11, 5, 9, 0, tzinfo=MSK)
    expiry_day = date(2026, 11, 5) + timedelta(days=trial_days)
    customer, clock, ports = trial_customer(
        store,
        DAILY_PHONES if daily else RESELLER_ONBILL,
        created=created,
        expires=datetime(expiry_day.year, expiry_day.month, expiry_day.day, 12, 0, tzinfo=MSK),
    )
    skipped = {date(2026, 11, 6) + timedelta(days=n) for n in missed}
    crawl_days(
        ports, clock, customer, [day for day in days_of(date(2026, 11, 6), date(2026, 12, 2)) if day not in skipped]
    )
    for entry_id in kazbill_entries(store, customer, [(2026, 11), (2026, 12)]):
        doc_day = entry_id.split("-")[3] if "-kazbill-daily-" in entry_id else None
        if doc_day:
            assert doc_day > expiry_day.strftime("%Y%m%d"), entry_id
    report = audit_account(ports, customer, date(2026, 11, 5), date(2026, 12, 2))
    assert report.differences == []
    if not daily:
        assert report.expected_total == -(
            remaining_share(THREE_PHONES_A_MONTH, 30, expiry_day.day) + THREE_PHONES_A_MONTH
        )
    store.close()
