"""Daily fees for the last days of a period the crawl missed: nothing later in that period can
charge them, so the account's first crawl of the next period does, once, at the ended period's
prices and in its name. Before, they were charged by a replay only, and a day missed because a
node left before crawling it (no failure stored) was never charged."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.domain.proration import daily_share
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
from testkit.fixtures.office import GENEROUS, RESELLER_ONBILL, kazbill_entries
from tests.integration.test_billing_worked_examples import DAILY_PHONES, MSK, one_customer
from tests.integration.test_changes_dated_by_kazoo import PLAN, set_trunks
from tests.integration.test_missed_daily_fees import THREE_PHONES_A_MONTH, crawl_days, days_of, switch_charging

pytestmark = pytest.mark.integration
DECEMBER = date(2026, 12, 1)
DAILY_PHONES_OFFICE = {**RESELLER_ONBILL, "charging": {"devices": "daily"}}
DAY_IN_ID = re.compile(r"-kazbill-daily-(\d{8})-")


def fees_by_day(store, account_id) -> dict[date, list[int]]:
    """Every daily fee from October to January, by the day it is for (whichever month's
    database it was written in)."""
    found: dict[date, list[int]] = {}
    for entry_id, (_, amount) in kazbill_entries(store, account_id, [(2026, 11), (2026, 12), (2027, 1)]).items():
        if match := DAY_IN_ID.search(entry_id):
            day = datetime.strptime(match.group(1), "%Y%m%d").date()
            found.setdefault(day, []).append(amount)
    return found


def three_daily_phones(store, name: str, first_crawl: date):
    return one_customer(
        store,
        name,
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=3,
        at=datetime(first_crawl.year, first_crawl.month, first_crawl.day, 0, 5, tzinfo=MSK),
        onbill=DAILY_PHONES,
    )


def test_the_last_day_of_a_period_the_crawl_missed_is_charged_by_the_first_crawl_of_the_next(store):
    # Three daily phones, 15,000.00 a month. The crawl of 30 November missed this customer
    # (its node left before crawling it: no failure stored). The crawl of 1 December charges
    # November's 30th at November's split (its 30th share of 15,000.00), and December's 1st.
    _, customer, clock, ports = three_daily_phones(store, "Rho Deli", date(2026, 11, 27))
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 27), date(2026, 11, 29)))
    crawl_days(ports, clock, customer, [date(2026, 12, 1)])
    fees = fees_by_day(store, customer)
    assert fees[date(2026, 11, 30)] == [daily_share(THREE_PHONES_A_MONTH, 30, 29)]
    assert fees[date(2026, 12, 1)] == [daily_share(THREE_PHONES_A_MONTH, 31, 0)]
    crawl_days(ports, clock, customer, [date(2026, 12, 1), date(2026, 12, 2)])  # again, and on: nothing twice
    assert fees_by_day(store, customer)[date(2026, 11, 30)] == [daily_share(THREE_PHONES_A_MONTH, 30, 29)]


def test_the_last_day_and_the_first_missed_are_both_charged_by_the_next_crawl(store):
    # 30 November and 1 December both missed: the crawl of the 2nd charges both. November's
    # last day being owed says the fees were running into December, so its 1st is owed too.
    _, customer, clock, ports = three_daily_phones(store, "Sigma Deli", date(2026, 11, 28))
    crawl_days(ports, clock, customer, [date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 2)])
    fees = fees_by_day(store, customer)
    assert sorted(fees) == [
        date(2026, 11, 28),
        date(2026, 11, 29),
        date(2026, 11, 30),
        *days_of(date(2026, 12, 1), date(2026, 12, 2)),
    ]
    assert all(len(amounts) == 1 for amounts in fees.values())


def test_the_previous_period_is_checked_once_a_period(store):
    # Its check is recorded in the crawl log of the period's first month, with the period.
    _, customer, clock, ports = three_daily_phones(store, "Tau Deli", date(2026, 11, 29))
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 29), date(2026, 12, 2)))
    log = store.get(account_modb(customer, 2026, 12), "202612-kazbill-crawl-log")
    assert log["earlier_period_checked"] == "2026-12-01"
    assert log["days"] == ["2026-12-01", "2026-12-02"]


def test_a_reseller_that_began_charging_daily_this_period_owes_nothing_for_the_last(store):
    # No crawl of November logged a day (its reseller charged phones monthly): November owes no
    # daily fee, whatever December's first crawl finds.
    _, customer, clock, ports = three_daily_phones(store, "Upsilon Deli", date(2026, 12, 1))
    crawl_days(ports, clock, customer, [date(2026, 12, 1)])
    assert sorted(fees_by_day(store, customer)) == [date(2026, 12, 1)]


def test_a_category_switched_to_daily_at_the_boundary_owes_the_ended_period_nothing_by_the_day(store):
    # Phones daily in November, trunks monthly and none held; the crawl of 30 November missed
    # the customer. At 00:01 on 1 December the reseller charges trunks daily too, and at 00:02
    # the customer takes two. November's 30th owes its phones (2 × 310.00 a month, its 30th
    # share) and no trunk fee: November charged no trunks by the day.
    customer = trunks_switched_to_daily(
        store, created=datetime(2026, 1, 10, tzinfo=MSK), charging={"devices": "daily"}, crawled_from=date(2026, 11, 1)
    )
    november_30 = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, [(2026, 11), (2026, 12)]).items()
        if "-daily-20261130-" in entry_id
    }
    assert november_30 == {"202611-kazbill-daily-20261130-devices-sip_device-q2": daily_share(6_200_000, 30, 29)}


def test_an_account_created_in_a_period_that_charged_nothing_daily_owes_it_no_daily_fee(store):
    # Created on 20 November under a reseller charging nothing daily; trunks switched to daily
    # at 00:01 on 1 December, two taken at 00:02. No November day owes a daily fee (before, its
    # every day from the 20th was taken as missed: 1,136,663 for trunks it never had).
    customer = trunks_switched_to_daily(
        store, created=datetime(2026, 11, 20, 10, 0, tzinfo=MSK), charging={}, crawled_from=date(2026, 11, 21)
    )
    assert sorted(fees_by_day(store, customer)) == [date(2026, 12, 1)]


def trunks_switched_to_daily(store, *, created: datetime, charging: dict, crawled_from: date, on: date = DECEMBER):
    """A customer of two phones and no trunks, crawled from `crawled_from` to the day before
    `on` under `charging`; trunks charged daily from 00:01 on `on`, two taken at 00:02, then
    the crawl of `on`."""
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "charging": charging}, plan=PLAN)
    customer = world.customer(
        "Chi Ltd", created=created, onbill={"billing_day": 1}, limits={**GENEROUS, "twoway_trunks": 0}, devices=2
    )
    clock = SettableClock(created + timedelta(minutes=5))
    ports = BillingPorts(store, clock, world.design_docs)
    reconcile_account(ports, customer)
    crawl_days(ports, clock, customer, days_of(crawled_from, on - timedelta(days=1)))
    clock.set(datetime(on.year, on.month, on.day, 0, 1, tzinfo=MSK))
    switch_charging(store, world, {**charging, "limits": "daily"})
    set_trunks(world, customer, datetime(on.year, on.month, on.day, 0, 2, tzinfo=MSK), 2)
    crawl_days(ports, clock, customer, [on])
    return customer


def test_days_of_a_new_account_before_its_reseller_charged_daily_owe_no_daily_fee(store):
    # The same within a period: created on 10 December, trunks daily from the 20th. Before, the
    # 20th's crawl charged trunk fees for the 10th to the 19th (1,000,000, trunks never held).
    customer = trunks_switched_to_daily(
        store,
        created=datetime(2026, 12, 10, 10, 0, tzinfo=MSK),
        charging={},
        crawled_from=date(2026, 12, 11),
        on=date(2026, 12, 20),
    )
    assert sorted(fees_by_day(store, customer)) == [date(2026, 12, 20)]


def test_a_log_of_the_first_day_written_before_the_check_existed_leaves_it_to_the_next_crawl(store):
    # A version before this check crawled 1 December (its log holds the day, not the check);
    # 30 November was missed. The day crawled again, then the 2nd: November's 30th is charged.
    _, customer, clock, ports = three_daily_phones(store, "Psi Deli", date(2026, 11, 27))
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 27), date(2026, 11, 29)))
    store.put(  # December's database is made ahead from the 28th (months_ahead.py)
        account_modb(customer, 2026, 12),
        {"_id": "202612-kazbill-crawl-log", "pvt_type": "kazbill_crawl_log", "days": ["2026-12-01"]},
    )
    crawl_days(ports, clock, customer, [date(2026, 12, 1), date(2026, 12, 2)])
    assert fees_by_day(store, customer)[date(2026, 11, 30)] == [daily_share(THREE_PHONES_A_MONTH, 30, 29)]


def test_a_pending_periods_missed_last_day_is_charged_as_its_other_days_were(store):
    # A prepay customer without funds: November stays pending (its user's month unpaid), its
    # phones charged by the day all the same. 30 November was missed: December's first crawl
    # charges it like the 29 days before it.
    world = World(store).build(reseller_onbill=DAILY_PHONES_OFFICE, plan=PLAN)
    customer = world.customer(
        "Omega Prepay", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits={}, devices=2
    )
    store.put(  # a user: 62.00 a month, monthly, which the account cannot pay
        account_db(customer),
        stamp({"_id": "user0001", "username": "ab"}, customer, "user", created=gregorian(datetime(2026, 1, 10))),
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_days(ports, clock, customer, days_of(date(2026, 11, 1), date(2026, 11, 29)))
    crawl_days(ports, clock, customer, [date(2026, 12, 1)])
    fees = fees_by_day(store, customer)
    assert [fees[day] for day in days_of(date(2026, 11, 1), date(2026, 11, 30))] == [
        [daily_share(6_200_000, 30, n)] for n in range(30)
    ]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(missed=st.sets(st.integers(1, 41), max_size=14))
def test_whatever_days_missed_around_a_month_end_each_day_is_charged_once_at_its_share(tmp_path_factory, missed):
    """Crawls from 20 November to 1 January, any of the days between missed: every day from the
    20th to 31 December is charged exactly once, at its own month's share, and December adds up
    to the monthly cost."""
    store = EmbeddedStore(tmp_path_factory.mktemp("around") / "k.sqlite3")
    first = date(2026, 11, 20)
    _, customer, clock, ports = three_daily_phones(store, "Phi Bar", first)
    skipped = {first + timedelta(days=n) for n in missed}
    crawl_days(ports, clock, customer, [day for day in days_of(first, date(2027, 1, 1)) if day not in skipped])
    fees = fees_by_day(store, customer)
    for day in days_of(first, date(2026, 12, 31)):
        days_in_month = 30 if day.month == 11 else 31
        assert fees[day] == [daily_share(THREE_PHONES_A_MONTH, days_in_month, day.day - 1)], day
    assert sum(fees[day][0] for day in days_of(date(2026, 12, 1), date(2026, 12, 31))) == THREE_PHONES_A_MONTH
    store.close()
