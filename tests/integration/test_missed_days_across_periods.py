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

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.proration import daily_share
from testkit.fixtures.office import kazbill_entries
from tests.integration.test_billing_worked_examples import DAILY_PHONES, MSK, one_customer
from tests.integration.test_missed_daily_fees import THREE_PHONES_A_MONTH, crawl_days, days_of

pytestmark = pytest.mark.integration
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
