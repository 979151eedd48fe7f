from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.periods import (
    DEFAULT_TIME_ZONE,
    InvalidBillingDay,
    Period,
    UnknownTimeZone,
    day_length,
    day_length_hours,
    day_start_utc,
    effective_billing_day,
    local_day,
    local_day_of_gregorian,
    period_containing,
    period_start,
    periods_between,
    validate_billing_day,
)

ALL_BILLING_DAYS = range(1, 32)
LEAP_YEAR, NON_LEAP_YEAR = 2028, 2027
billing_days = st.integers(min_value=1, max_value=31)
days_1970_to_2100 = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))


def p(billing_day: int, start: str, end: str) -> Period:
    return Period(billing_day, date.fromisoformat(start), date.fromisoformat(end))


# --- the worked examples from the design -------------------------------------------------


def test_a_billing_day_of_31_starts_february_periods_on_the_28th():
    january = period_containing(31, date(2027, 1, 31))
    assert january == p(31, "2027-01-31", "2027-02-27")
    assert january.days == 28
    assert january.next() == p(31, "2027-02-28", "2027-03-30")
    assert january.next().days == 31


def test_a_billing_day_of_30_in_a_leap_year_starts_february_periods_on_the_29th():
    january = period_containing(30, date(2028, 2, 1))
    assert january == p(30, "2028-01-30", "2028-02-28")
    assert january.days == 30
    assert january.next() == p(30, "2028-02-29", "2028-03-29")


def test_a_billing_day_of_15_runs_from_the_15th_to_the_14th():
    march = period_containing(15, date(2026, 3, 20))
    assert march == p(15, "2026-03-15", "2026-04-14")
    assert march.days == 31


def test_a_billing_day_of_1_periods_are_calendar_months():
    assert period_containing(1, date(2027, 2, 14)) == p(1, "2027-02-01", "2027-02-28")
    assert period_containing(1, date(2028, 2, 14)).days == 29


@pytest.mark.parametrize(
    "billing_day, year, start, end, days",
    [
        (28, NON_LEAP_YEAR, "2027-02-28", "2027-03-27", 28),
        (29, NON_LEAP_YEAR, "2027-02-28", "2027-03-28", 29),
        (30, NON_LEAP_YEAR, "2027-02-28", "2027-03-29", 30),
        (31, NON_LEAP_YEAR, "2027-02-28", "2027-03-30", 31),
        (28, LEAP_YEAR, "2028-02-28", "2028-03-27", 29),
        (29, LEAP_YEAR, "2028-02-29", "2028-03-28", 29),
        (30, LEAP_YEAR, "2028-02-29", "2028-03-29", 30),
        (31, LEAP_YEAR, "2028-02-29", "2028-03-30", 31),
    ],
)
def test_billing_days_28_to_31_in_february_clamp_to_the_end_of_the_month(billing_day, year, start, end, days):
    february = Period.starting(billing_day, year, 2)
    assert february == p(billing_day, start, end)
    assert february.days == days
    assert february.previous().end == february.start - timedelta(days=1)


@pytest.mark.parametrize(
    "billing_day, year, month, expected",
    [
        (31, 2026, 4, "2026-04-30"),
        (31, 2026, 5, "2026-05-31"),
        (31, 2026, 6, "2026-06-30"),
        (30, 2026, 12, "2026-12-30"),
        (29, 2027, 2, "2027-02-28"),
        (29, 2028, 2, "2028-02-29"),
        (28, 2027, 2, "2027-02-28"),
        (1, 2026, 11, "2026-11-01"),
    ],
)
def test_a_period_starts_on_the_billing_day_or_the_last_day_of_a_shorter_month(billing_day, year, month, expected):
    assert period_start(billing_day, year, month) == date.fromisoformat(expected)


def test_a_period_after_a_clamped_month_goes_back_to_the_billing_day():
    # April has 30 days, so B=31 starts on the 30th, then May's period starts on the 31st again.
    april = Period.starting(31, 2026, 4)
    assert april == p(31, "2026-04-30", "2026-05-30")
    assert april.next().start == date(2026, 5, 31)


# --- whole years ----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [NON_LEAP_YEAR, LEAP_YEAR])
@pytest.mark.parametrize("billing_day", ALL_BILLING_DAYS)
def test_every_billing_day_tiles_a_whole_year_with_no_gap_and_no_overlap(billing_day, year):
    first, last = date(year, 1, 1), date(year, 12, 31)
    periods = periods_between(billing_day, first, last)

    assert periods[0].contains(first) and periods[-1].contains(last)
    for earlier, later in pairwise(periods):
        assert later.start == earlier.end + timedelta(days=1)
    covered = [day for period in periods for day in period.each_day()]
    assert covered == [covered[0] + timedelta(days=n) for n in range(len(covered))]  # each day once, in order
    assert sum(period.days for period in periods) == len(covered)


@pytest.mark.parametrize("year, year_length", [(NON_LEAP_YEAR, 365), (LEAP_YEAR, 366)])
@pytest.mark.parametrize("billing_day", ALL_BILLING_DAYS)
def test_the_twelve_periods_starting_in_a_year_last_exactly_that_year(billing_day, year, year_length):
    starting_in_year = [Period.starting(billing_day, year, month) for month in range(1, 13)]
    assert sum(period.days for period in starting_in_year) == year_length
    assert starting_in_year[-1].next() == Period.starting(billing_day, year + 1, 1)


def test_periods_between_lists_every_period_touching_the_range_in_order():
    assert periods_between(15, date(2026, 3, 14), date(2026, 4, 15)) == [
        p(15, "2026-02-15", "2026-03-14"),
        p(15, "2026-03-15", "2026-04-14"),
        p(15, "2026-04-15", "2026-05-14"),
    ]
    assert periods_between(15, date(2026, 3, 20), date(2026, 3, 20)) == [p(15, "2026-03-15", "2026-04-14")]


def test_periods_between_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="after last day"):
        periods_between(15, date(2026, 4, 1), date(2026, 3, 1))


def test_a_period_crossing_new_year_goes_back_to_december():
    assert period_containing(20, date(2027, 1, 5)) == p(20, "2026-12-20", "2027-01-19")
    assert Period.starting(20, 2027, 1).previous() == p(20, "2026-12-20", "2027-01-19")


# --- days left, keys, each day ------------------------------------------------------------


def test_days_left_counts_today():
    march = p(15, "2026-03-15", "2026-04-14")
    assert march.days_left(date(2026, 3, 15)) == 31
    assert march.days_left(date(2026, 3, 16)) == 30
    assert march.days_left(date(2026, 4, 14)) == 1


@pytest.mark.parametrize("outside", [date(2026, 3, 14), date(2026, 4, 15)])
def test_days_left_refuses_a_day_outside_the_period(outside):
    with pytest.raises(ValueError, match="outside the period"):
        p(15, "2026-03-15", "2026-04-14").days_left(outside)


def test_the_key_is_the_start_date_without_separators():
    assert p(31, "2027-02-28", "2027-03-30").key == "20270228"
    assert Period.starting(5, 2026, 1).key == "20260105"


def test_each_day_yields_every_day_of_the_period_in_order():
    days = list(p(31, "2027-01-31", "2027-02-27").each_day())
    assert len(days) == 28 and days[0] == date(2027, 1, 31) and days[-1] == date(2027, 2, 27)


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-03-14", "2026-04-13"),  # starts on the wrong day
        ("2026-03-15", "2026-04-15"),  # overlaps the next period
        ("2026-03-15", "2026-04-13"),  # leaves a gap before the next period
    ],
)
def test_a_period_that_does_not_match_its_billing_day_cannot_be_built(start, end):
    with pytest.raises(ValueError, match="not a period for billing day 15"):
        p(15, start, end)


def test_a_datetime_is_not_accepted_where_a_day_is_meant():
    with pytest.raises(TypeError):
        period_containing(15, datetime(2026, 3, 20, 12, tzinfo=UTC))
    with pytest.raises(TypeError):
        p(15, "2026-03-15", "2026-04-14").contains(datetime(2026, 3, 20, tzinfo=UTC))


# --- the effective billing day --------------------------------------------------------------


def test_an_account_without_a_billing_day_uses_the_default():
    assert effective_billing_day(None, force_first_day=False, default_day=10) == 10


def test_an_account_billing_day_wins_over_the_default():
    assert effective_billing_day(31, force_first_day=False, default_day=10) == 31


def test_a_reseller_forcing_the_first_day_overrides_the_account():
    assert effective_billing_day(17, force_first_day=True, default_day=10) == 1
    assert effective_billing_day(None, force_first_day=True, default_day=10) == 1


def test_a_bad_account_billing_day_is_refused_unless_the_first_day_is_forced():
    with pytest.raises(InvalidBillingDay, match="40"):
        effective_billing_day(40, force_first_day=False, default_day=10)
    assert effective_billing_day(40, force_first_day=True, default_day=10) == 1


def test_a_bad_default_billing_day_is_refused_even_when_unused():
    with pytest.raises(InvalidBillingDay, match="0"):
        effective_billing_day(5, force_first_day=True, default_day=0)


# --- bad billing days -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 32, -1, "15", True, False, None, 15.0])
def test_a_billing_day_outside_1_to_31_or_not_an_int_is_refused_naming_the_value(bad):
    with pytest.raises(InvalidBillingDay) as refused:
        period_start(bad, 2026, 3)
    assert repr(bad) in str(refused.value)
    assert refused.value.value is bad
    assert isinstance(refused.value, ValueError)
    with pytest.raises(InvalidBillingDay):
        period_containing(bad, date(2026, 3, 20))
    with pytest.raises(InvalidBillingDay):
        validate_billing_day(bad)


# --- time zones -----------------------------------------------------------------------------


def test_the_same_instant_is_a_different_day_in_moscow():
    instant = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    assert local_day(instant, "UTC") == date(2026, 11, 23)
    assert local_day(instant, DEFAULT_TIME_ZONE) == date(2026, 11, 23)
    assert local_day(instant, "Europe/Moscow") == date(2026, 11, 24)  # UTC+3
    assert local_day(instant, "America/New_York") == date(2026, 11, 23)


def test_an_instant_in_any_offset_is_converted_before_taking_its_day():
    late_in_vladivostok = datetime(2026, 11, 24, 1, 0, tzinfo=timezone(timedelta(hours=10)))
    assert local_day(late_in_vladivostok, "UTC") == date(2026, 11, 23)


def test_the_billing_period_of_an_instant_depends_on_the_resellers_zone():
    instant = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)
    assert period_containing(15, local_day(instant, "UTC")).start == date(2026, 2, 15)
    assert period_containing(15, local_day(instant, "Europe/Moscow")).start == date(2026, 3, 15)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        local_day(datetime(2026, 11, 23, 22, 30), "UTC")


@pytest.mark.parametrize(
    "bad_zone", ["Europe/Atlantis", "", "utc ", "../etc/passwd", "/etc/localtime", "zone.tab", "Europe", None, 3]
)
def test_an_unknown_time_zone_is_refused_naming_it(bad_zone):
    with pytest.raises(UnknownTimeZone) as refused:
        local_day(datetime(2026, 1, 1, tzinfo=UTC), bad_zone)
    assert repr(bad_zone) in str(refused.value)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(UnknownTimeZone, match="Atlantis"):
        day_start_utc(date(2026, 1, 1), "Europe/Atlantis")


def test_a_day_in_utc_starts_at_midnight_utc():
    assert day_start_utc(date(2026, 11, 23), "UTC") == datetime(2026, 11, 23, tzinfo=UTC)
    assert day_start_utc(date(2026, 11, 24), "Europe/Moscow") == datetime(2026, 11, 23, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone, day, starts_at, hours",
    [
        ("Europe/Berlin", "2026-03-29", "2026-03-28T23:00:00+00:00", 23),  # spring forward
        ("Europe/Berlin", "2026-03-30", "2026-03-29T22:00:00+00:00", 24),
        ("Europe/Berlin", "2026-10-25", "2026-10-24T22:00:00+00:00", 25),  # fall back
        ("Europe/Berlin", "2026-10-26", "2026-10-25T23:00:00+00:00", 24),
        ("America/New_York", "2026-03-08", "2026-03-08T05:00:00+00:00", 23),  # spring forward
        ("America/New_York", "2026-03-09", "2026-03-09T04:00:00+00:00", 24),
        ("America/New_York", "2026-11-01", "2026-11-01T04:00:00+00:00", 25),  # fall back
        ("America/New_York", "2026-11-02", "2026-11-02T05:00:00+00:00", 24),
        # Brazil moved its clocks at midnight, so 2018-11-04 00:00 never happened: the day began at 01:00.
        ("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00+00:00", 23),
        ("UTC", "2026-03-29", "2026-03-29T00:00:00+00:00", 24),
    ],
)
def test_a_local_day_starts_at_the_right_utc_instant_across_dst(zone, day, starts_at, hours):
    start = day_start_utc(date.fromisoformat(day), zone)
    assert start == datetime.fromisoformat(starts_at)
    assert start.tzinfo is UTC
    assert day_length_hours(date.fromisoformat(day), zone) == hours


def test_a_day_that_is_not_a_whole_number_of_hours_is_refused_rather_than_rounded():
    # Lord Howe Island moves its clocks by half an hour.
    spring_forward = date(2026, 10, 4)
    assert day_length(spring_forward, "Australia/Lord_Howe") == timedelta(hours=23, minutes=30)
    with pytest.raises(ValueError, match="not a whole number of hours"):
        day_length_hours(spring_forward, "Australia/Lord_Howe")


# --- Kazoo's Gregorian seconds --------------------------------------------------------------


def test_gregorian_seconds_are_unix_seconds_plus_kazoos_offset():
    assert local_day_of_gregorian(62_167_219_200, "UTC") == date(1970, 1, 1)
    assert local_day_of_gregorian(62_167_219_200, "America/New_York") == date(1969, 12, 31)


def test_a_gregorian_timestamp_falls_on_the_resellers_local_day():
    late_on_23_november_utc = 63_962_692_200  # 2026-11-23T22:30:00Z
    assert local_day_of_gregorian(late_on_23_november_utc, "UTC") == date(2026, 11, 23)
    assert local_day_of_gregorian(late_on_23_november_utc, "Europe/Moscow") == date(2026, 11, 24)


@pytest.mark.parametrize("bad", [63_962_692_200.0, "63962692200", None, True])
def test_gregorian_seconds_must_be_an_int(bad):
    with pytest.raises(TypeError):
        local_day_of_gregorian(bad, "UTC")


# --- properties -----------------------------------------------------------------------------


@given(billing_day=billing_days, day=days_1970_to_2100)
def test_the_period_containing_any_day_is_a_well_formed_link_in_the_chain(billing_day, day):
    period = period_containing(billing_day, day)
    assert period.contains(day)
    assert 28 <= period.days <= 31
    assert period.next().start == period.end + timedelta(days=1)
    assert period.previous().end == period.start - timedelta(days=1)
    assert period.next().previous() == period
    assert period.days_left(period.start) == period.days
    assert period.days_left(period.end) == 1
    starts_on_billing_day = period.start.day == billing_day
    clamped_to_month_end = period.start.day < billing_day and (period.start + timedelta(days=1)).day == 1
    assert starts_on_billing_day or clamped_to_month_end
    assert period_containing(billing_day, period.start) == period == period_containing(billing_day, period.end)


@given(
    zone=st.sampled_from(
        [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "America/Sao_Paulo",
            "Europe/Moscow",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
        ]
    ),
    day=days_1970_to_2100,
)
def test_a_local_day_starts_exactly_where_the_previous_one_ends(zone, day):
    start = day_start_utc(day, zone)
    assert local_day(start, zone) == day
    assert local_day(start - timedelta(microseconds=1), zone) == day - timedelta(days=1)
    assert timedelta(hours=22) <= day_length(day, zone) <= timedelta(hours=26)
