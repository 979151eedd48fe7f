from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.crawl_days import days_missed, days_to_crawl


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


D = date(2026, 12, 1)


def dec(*days: int) -> set[date]:
    return {date(2026, 12, day) for day in days}


def test_a_day_the_crawls_missed_is_owed_from_the_periods_start_when_they_were_logging_then():
    # Crawled every day of December but the 5th (the pass failed, or its node left): on the 8th
    # the 5th is owed; today (the 8th) is the crawl's own.
    logged = dec(1, 2, 3, 4, 6, 7)
    assert days_missed(since=D, today=date(2026, 12, 8), logged=logged, ran_before=False) == [date(2026, 12, 5)]
    # The 1st missed too, but 30 November was crawled: the fees were running, the 1st is owed.
    assert days_missed(since=D, today=date(2026, 12, 4), logged=dec(2, 3), ran_before=True) == [D]


def test_days_before_the_first_logged_one_owe_nothing_unless_the_day_before_was_logged():
    # The reseller began charging daily on the 10th: nothing logged before it, nothing owed then.
    assert days_missed(since=D, today=date(2026, 12, 13), logged=dec(10, 12), ran_before=False) == [date(2026, 12, 11)]
    assert days_missed(since=D, today=date(2026, 12, 13), logged=set(), ran_before=False) == []
    assert days_missed(since=D, today=D, logged=set(), ran_before=True) == []  # the period's first crawl


@given(
    st.sets(st.integers(1, 31)),
    st.integers(1, 31),
    st.integers(1, 31),
    st.booleans(),
)
def test_missed_days_are_the_unlogged_days_from_the_first_one_fees_ran_to_the_day_before_today(
    logged_days, since_day, today_day, ran_before
):
    since, today = date(2026, 12, since_day), date(2026, 12, today_day)
    logged = dec(*logged_days)
    missed = days_missed(since=since, today=today, logged=logged, ran_before=ran_before)
    assert missed == sorted(set(missed)) and not set(missed) & logged
    assert all(since <= day < today for day in missed)  # never today, never before `since`
    running = [day for day in logged if since <= day < today]
    if ran_before or since in logged:
        first = since
    elif running:
        first = min(running)
    else:
        assert missed == []  # nothing known to run: nothing owed
        return
    gaps = {date(2026, 12, n) for n in range(first.day, today.day)} - logged
    assert set(missed) == gaps  # every gap once, from where the fees were running
