"""Daily fees for days the crawl of an account missed (its pass failed that day, the node that
owned it left before crawling it, its reseller was set aside): the account's next crawl charges
them, once, as a late crawl of those days would have, and logs them. And a period charges a
category the way it began to: switched to daily mid-period, it is paid by the month to the end."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.proration import daily_share, remaining_share
from bookkeeper.services.billing.account_pass import crawl_account_day, reconcile_account
from testkit.fixtures.office import RESELLER_ONBILL, kazbill_entries
from tests.integration.test_billing_worked_examples import DAILY_PHONES, MSK, one_customer
from tests.integration.test_changes_dated_by_kazoo import build, set_trunks

pytestmark = pytest.mark.integration
DECEMBER = date(2026, 12, 1)
THREE_PHONES_A_MONTH = 15_000_000  # 500.00 each


def days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def crawl_days(ports, clock, account_id, days):
    for day in days:
        clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
        crawl_account_day(ports, account_id, day)


def switch_charging(store, world, charging: dict[str, str]) -> None:
    """The reseller's `charging` setting changed (which categories are charged by the day)."""
    onbill = store.get(account_db(world.reseller), "onbill")
    store.put(account_db(world.reseller), {**onbill, "charging": charging})


def phones_added(world, clock, ports, customer, at: datetime, phones: int = 1) -> None:
    """Phones added at `at`, and the live pass their change brings."""
    clock.set(at)
    world.add_devices(customer, phones, created=clock.now())
    reconcile_account(ports, customer)


def switched_to_daily_on_the_10th(store, name: str, *, until: date):
    """Two monthly phones paid for December on the 1st; the reseller charges phones daily from
    the 10th; three more phones on the 12th; crawled to `until`. The customer and the ports."""
    world, customer, clock, ports = one_customer(
        store, name, created=datetime(2026, 1, 10, tzinfo=MSK), devices=2, at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK)
    )
    crawl_days(ports, clock, customer, days_of(DECEMBER, date(2026, 12, 9)))
    switch_charging(store, world, {"devices": "daily"})
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 10), date(2026, 12, 11)))
    phones_added(world, clock, ports, customer, datetime(2026, 12, 12, 10, 0, tzinfo=MSK), 3)
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 13), until))
    return customer, ports


def switched_to_monthly_on_the_10th(store, name: str, *, until: date):
    """Two daily phones; a third on the 3rd; the reseller charges phones monthly from the 10th;
    crawled to `until`. The customer and the ports."""
    world, customer, clock, ports = one_customer(
        store,
        name,
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl_days(ports, clock, customer, days_of(DECEMBER, date(2026, 12, 2)))
    phones_added(world, clock, ports, customer, datetime(2026, 12, 3, 10, 0, tzinfo=MSK))
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 4), date(2026, 12, 9)))
    switch_charging(store, world, {})
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 10), until))
    return customer, ports


def daily(store, account_id, month=(2026, 12)) -> dict[str, int]:
    return {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, account_id, [month]).items()
        if "-kazbill-daily-" in entry_id and f"-daily-{month[0]:04d}{month[1]:02d}" in entry_id
    }


def test_a_day_the_crawl_missed_is_charged_by_the_next_crawl_once(store):
    # Three daily phones at 500.00 a month; December has 31 days. The crawl of the 5th failed for
    # this customer (or its node left before crawling it). The 6th's crawl charges the 5th too:
    # its share, 15,000.00 × its place in the month's split, not a day more.
    _, customer, clock, ports = one_customer(
        store,
        "Iota Deli",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=3,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl_days(ports, clock, customer, days_of(DECEMBER, date(2026, 12, 4)))
    crawl_days(ports, clock, customer, [date(2026, 12, 6)])
    fees = daily(store, customer)
    assert fees["202612-kazbill-daily-20261205-devices-sip_device-q3"] == daily_share(THREE_PHONES_A_MONTH, 31, 4)
    assert len(fees) == 6
    crawl_days(ports, clock, customer, [date(2026, 12, 6), date(2026, 12, 7)])  # again, and on: nothing twice
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 8), date(2026, 12, 31)))
    fees = daily(store, customer)
    assert len(fees) == 31 and sum(fees.values()) == THREE_PHONES_A_MONTH


def test_the_first_day_of_a_period_is_owed_when_the_crawls_ran_the_day_before(store):
    # 30 November crawled, 1 December missed: the fees were running, the 1st is owed at the 2nd.
    _, customer, clock, ports = one_customer(
        store,
        "Kappa Deli",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=3,
        at=datetime(2026, 11, 30, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl_days(ports, clock, customer, [date(2026, 11, 30), date(2026, 12, 2)])
    assert set(daily(store, customer)) == {
        "202612-kazbill-daily-20261201-devices-sip_device-q3",
        "202612-kazbill-daily-20261202-devices-sip_device-q3",
    }


def test_days_before_a_reseller_charged_daily_owe_no_daily_fee(store):
    # The reseller charged phones monthly; on the 10th it switches them to daily. December was
    # paid in full on the 1st (1,000.00 for two phones): no daily fee in December for them, not
    # for the days before the switch nor after it. January is charged by the day.
    world, customer, clock, ports = one_customer(
        store,
        "Lambda Pub",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
    )
    crawl_days(ports, clock, customer, days_of(DECEMBER, date(2026, 12, 9)))
    switch_charging(store, world, {"devices": "daily"})
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 10), date(2027, 1, 2)))
    december = kazbill_entries(store, customer, [(2026, 12)])
    assert daily(store, customer) == {}
    assert december["202611-kazbill-mrc-20261201-devices-sip_device-q2"] == ("debit", 10_000_000)
    january = daily(store, customer, (2027, 1))
    assert set(january) == {
        "202612-kazbill-daily-20270101-devices-sip_device-q2",  # 00:05 in Moscow: still December in UTC
        "202701-kazbill-daily-20270102-devices-sip_device-q2",
    }
    assert not any("-mrc-20270101-devices" in entry_id for entry_id in kazbill_entries(store, customer, [(2027, 1)]))


def test_a_day_charged_for_a_missed_crawl_is_not_charged_again_after_a_later_rise(store):
    # Trunks charged daily (155.00 a month, March: 5.00 a day), one trunk. The 5th was missed;
    # the 6th charges it at one trunk. Trunks raised to three on the 6th: the 5th held one all
    # day, and is never charged again for what came after it (a trunk count has no history
    # before its document's last change: priced again, the 5th would be taken at three).
    world, customer, clock, ports = build(store, onbill={**RESELLER_ONBILL, "charging": {"limits": "daily"}})
    crawl_days(ports, clock, customer, [*days_of(date(2026, 3, 1), date(2026, 3, 4)), date(2026, 3, 6)])
    set_trunks(world, customer, datetime(2026, 3, 6, 14, 0, tzinfo=MSK), 3)
    clock.set(datetime(2026, 3, 6, 14, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    crawl_days(ports, clock, customer, days_of(date(2026, 3, 7), date(2026, 3, 8)))
    fifth = {k: v for k, v in daily(store, customer, (2026, 3)).items() if "-daily-20260305-" in k}
    assert fifth == {"202603-kazbill-daily-20260305-limits-twoway_trunks-q1": 50_000}


def test_a_day_missed_after_a_new_accounts_first_day_is_charged(store):
    # Signed up at 11:00 on the 10th (its first pass charges the 10th); the crawl of the 11th
    # missed it: the 12th charges the 11th, as for any account.
    _, customer, clock, ports = one_customer(
        store,
        "Nu Deli",
        created=datetime(2026, 12, 10, 11, 0, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 10, 11, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    reconcile_account(ports, customer)
    crawl_days(ports, clock, customer, [date(2026, 12, 12)])
    assert sorted(daily(store, customer)) == [
        f"202612-kazbill-daily-202612{day}-devices-sip_device-q2" for day in ("10", "11", "12")
    ]


def test_a_switch_to_daily_mid_period_takes_effect_at_the_next_period(store):
    # Two phones paid for December on the 1st (1,000.00); switched to daily on the 10th; three
    # more on the 12th. December charges phones by the month to its end, the three from the
    # 12th too (the days left, as any rise); January by the day. Before, each day from the 10th
    # was charged on top of the paid month.
    customer, _ = switched_to_daily_on_the_10th(store, "Xi Cafe", until=date(2027, 1, 1))
    assert daily(store, customer) == {}
    december = kazbill_entries(store, customer, [(2026, 12)])
    assert december["202612-kazbill-mrc-20261201-devices-sip_device-q5"] == (
        "debit",
        remaining_share(25_000_000, 31, 11) - remaining_share(10_000_000, 31, 11),
    )
    assert set(daily(store, customer, (2027, 1))) == {"202612-kazbill-daily-20270101-devices-sip_device-q5"}


def test_a_switch_to_daily_neither_credits_nor_charges_by_the_day_what_the_month_paid(store):
    # Prorated credits on, one trunk paid for March (155.00); a second trunk on the 5th, trunks
    # switched to daily on the 10th. March stays paid by the month: the first trunk whole, the
    # second from the 5th. Before, the switch credited trunks from the first change of the
    # month and charged by the day only the days a change touched and those from the switch.
    world, customer, clock, ports = build(store, onbill={**RESELLER_ONBILL, "prorated_credits": True})
    crawl_days(ports, clock, customer, days_of(date(2026, 3, 1), date(2026, 3, 4)))
    set_trunks(world, customer, datetime(2026, 3, 5, 12, 0, tzinfo=MSK), 2)
    clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    crawl_days(ports, clock, customer, days_of(date(2026, 3, 6), date(2026, 3, 9)))
    switch_charging(store, world, {"limits": "daily"})
    crawl_days(ports, clock, customer, days_of(date(2026, 3, 10), date(2026, 4, 1)))
    march = {
        entry_id: (kind, amount)
        for entry_id, (kind, amount) in kazbill_entries(store, customer, [(2026, 3)]).items()
        if "twoway_trunks" in entry_id and "-20260401-" not in entry_id
    }
    assert march == {
        "202602-kazbill-mrc-20260301-limits-twoway_trunks-q1": ("debit", 1_550_000),
        "202603-kazbill-mrc-20260301-limits-twoway_trunks-q2": (
            "debit",
            remaining_share(3_100_000, 31, 4) - remaining_share(1_550_000, 31, 4),
        ),
    }
    april = kazbill_entries(store, customer, [(2026, 4)])
    assert any("-daily-20260401-limits-twoway_trunks-q2" in entry_id for entry_id in april)


def test_a_switch_to_monthly_mid_period_keeps_the_days_daily_to_the_period_end(store):
    # Phones daily; a third on the 3rd; the reseller switches phones to monthly on the 10th.
    # December stays daily to its end (its days from the 3rd were paid by the day: charged by
    # the month from the 3rd, the first change, they were paid twice); January by the month.
    customer, _ = switched_to_monthly_on_the_10th(store, "Omicron Bar", until=date(2027, 1, 1))
    fees = daily(store, customer)
    assert len(fees) == 31
    assert sum(fees.values()) == sum(daily_share(10_000_000, 31, n) for n in range(2)) + sum(
        daily_share(15_000_000, 31, n) for n in range(2, 31)
    )
    entries = kazbill_entries(store, customer, [(2026, 12), (2027, 1)])
    assert [entry_id for entry_id in entries if "-mrc-" in entry_id] == [
        "202612-kazbill-mrc-20270101-devices-sip_device-q3"
    ]


def test_a_switch_to_monthly_in_the_next_period_charges_the_ended_one_nothing_by_the_month(store):
    # December daily (a third phone on the 5th); phones switched to monthly on 15 January: the
    # January crawl settles December's changes the way December was charged, by the day.
    world, customer, clock, ports = one_customer(
        store,
        "Pi Bar",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    crawl_days(ports, clock, customer, days_of(DECEMBER, date(2026, 12, 4)))
    phones_added(world, clock, ports, customer, datetime(2026, 12, 5, 10, 0, tzinfo=MSK))
    crawl_days(ports, clock, customer, days_of(date(2026, 12, 6), date(2027, 1, 14)))
    switch_charging(store, world, {})
    crawl_days(ports, clock, customer, days_of(date(2027, 1, 15), date(2027, 1, 16)))
    entries = kazbill_entries(store, customer, [(2026, 12), (2027, 1)])
    assert not any("-mrc-20261201-" in entry_id for entry_id in entries)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(missed=st.sets(st.integers(2, 30), max_size=12), day_before=st.booleans())
def test_whatever_days_the_crawl_missed_the_month_adds_up_once_its_last_day_is_crawled(
    tmp_path_factory, missed, day_before
):
    """Every day of the month is charged exactly once, however many days (but the last) the
    crawl missed: the month's daily fees add up to the monthly cost."""
    store = EmbeddedStore(tmp_path_factory.mktemp("missed") / "k.sqlite3")
    start = date(2026, 11, 30) if day_before else DECEMBER
    _, customer, clock, ports = one_customer(
        store,
        "Mu Bar",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=3,
        at=datetime(start.year, start.month, start.day, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )
    skipped = {date(2026, 12, day) for day in missed} | ({DECEMBER} if day_before else set())
    crawl_days(ports, clock, customer, [day for day in days_of(start, date(2026, 12, 31)) if day not in skipped])
    fees = daily(store, customer)
    assert len(fees) == 31 and sum(fees.values()) == THREE_PHONES_A_MONTH
    store.close()
