from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.crawl_days import days_to_crawl


def test_a_first_crawl_starts_today_and_a_missed_weekend_is_caught_up():
    assert days_to_crawl(None, date(2026, 3, 2)) == [date(2026, 3, 2)]
    assert days_to_crawl(date(2026, 2, 27), date(2026, 3, 2)) == [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]
    assert days_to_crawl(date(2026, 3, 2), date(2026, 3, 2)) == []
    assert days_to_crawl(date(2026, 3, 3), date(2026, 3, 2)) == []  # the clock went back: nothing twice


@given(st.dates(), st.integers(0, 400))
def test_each_owed_day_comes_once_in_order(last, gap):
    today = date.fromordinal(min(last.toordinal() + gap, date.max.toordinal()))
    days = days_to_crawl(last, today)
    assert days == sorted(set(days)) and all(last < day <= today for day in days)
    assert len(days) == (today - last).days
