"""Billing periods and the reseller's calendar.

An account is billed from day B of a month (its billing day) to the day before day B of the
next month. Months shorter than B clamp the start to their last day, so B=31 starts February's
period on the 28th (29th in a leap year) and March's on the 31st again: periods never drift.

Every "day" here is a day in the reseller's time zone. Instants (aware datetimes, Kazoo's
Gregorian seconds) are turned into local dates at the edge by `local_day`; everything after
that is plain `date` arithmetic, which has no DST to get wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET

DEFAULT_TIME_ZONE = "UTC"
LAST_ACCEPTED_BILLING_DAY = 31
LAST_RECOMMENDED_BILLING_DAY = 28  # the last day every month has, so no period is ever clamped

_ONE_DAY = timedelta(days=1)
_ONE_HOUR = timedelta(hours=1)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidBillingDay(ValueError):
    def __init__(self, value: object):
        super().__init__(
            f"invalid billing day {value!r}: expected a whole number from 1 to {LAST_ACCEPTED_BILLING_DAY}"
        )
        self.value = value


class UnknownTimeZone(ValueError):
    def __init__(self, value: object):
        super().__init__(f"unknown time zone {value!r}: expected an IANA name such as 'Europe/Moscow'")
        self.value = value


def validate_billing_day(billing_day: object) -> int:
    # bool is an int subclass; True as a billing day is always a bug upstream, never "1".
    if type(billing_day) is not int or not 1 <= billing_day <= LAST_ACCEPTED_BILLING_DAY:
        raise InvalidBillingDay(billing_day)
    return billing_day


def effective_billing_day(account_billing_day: int | None, *, force_first_day: bool, default_day: int) -> int:
    """The day the account is actually billed on. The default is validated even when unused,
    because a bad default is a configuration error that should surface at once; the account's
    own day is ignored when the reseller forces the 1st, since it no longer means anything."""
    validate_billing_day(default_day)
    if force_first_day:
        return 1
    if account_billing_day is None:
        return default_day
    return validate_billing_day(account_billing_day)


def _require_date(value: object, what: str) -> date:
    # datetime is a date subclass; letting one through would silently drop its time and zone.
    if type(value) is not date:
        raise TypeError(f"{what} must be a date, got {value!r}")
    return value


def _last_day_of_month(year: int, month: int) -> int:
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (first_of_next - _ONE_DAY).day


Month = tuple[int, int]  # (year, month): the one way Kazbill steps through months


def next_month(month: Month) -> Month:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def previous_month(month: Month) -> Month:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def months_from(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included (just `first` when last is before it)."""
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


def period_start(billing_day: int, year: int, month: int) -> date:
    """Day B of the month, or the month's last day when the month is shorter than B."""
    validate_billing_day(billing_day)
    return date(year, month, min(billing_day, _last_day_of_month(year, month)))


@dataclass(frozen=True)
class Period:
    billing_day: int
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    def __post_init__(self) -> None:
        # Only the constructor functions below should build periods; checking here means a
        # Period that exists is always a real one, whoever built it.
        validate_billing_day(self.billing_day)
        _require_date(self.start, "period start")
        _require_date(self.end, "period end")
        expected_start = period_start(self.billing_day, self.start.year, self.start.month)
        expected_end = period_start(self.billing_day, *next_month((self.start.year, self.start.month))) - _ONE_DAY
        if (self.start, self.end) != (expected_start, expected_end):
            raise ValueError(
                f"{self.start.isoformat()}..{self.end.isoformat()} is not a period for billing day "
                f"{self.billing_day}; expected {expected_start.isoformat()}..{expected_end.isoformat()}"
            )

    @classmethod
    def starting(cls, billing_day: int, year: int, month: int) -> Period:
        start = period_start(billing_day, year, month)
        end = period_start(billing_day, *next_month((year, month))) - _ONE_DAY
        return cls(billing_day, start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        _require_date(day, "day")
        return self.start <= day <= self.end

    def days_left(self, today: date) -> int:
        """Days still to bill, today included: a 31-day period has 31 left on its first day."""
        if not self.contains(today):
            raise ValueError(
                f"{today.isoformat()} is outside the period {self.start.isoformat()}..{self.end.isoformat()}"
            )
        return (self.end - today).days + 1

    def next(self) -> Period:
        return Period.starting(self.billing_day, *next_month((self.start.year, self.start.month)))

    def previous(self) -> Period:
        return Period.starting(self.billing_day, *previous_month((self.start.year, self.start.month)))

    @property
    def key(self) -> str:
        # Formatted by hand: strftime("%Y") does not zero-pad years before 1000 on every platform.
        return f"{self.start.year:04d}{self.start.month:02d}{self.start.day:02d}"

    def each_day(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += _ONE_DAY


def period_containing(billing_day: int, day: date) -> Period:
    _require_date(day, "day")
    # A day before this month's start belongs to the period that began last month.
    if day >= period_start(billing_day, day.year, day.month):
        return Period.starting(billing_day, day.year, day.month)
    return Period.starting(billing_day, *previous_month((day.year, day.month)))


def periods_between(billing_day: int, first_day: date, last_day: date) -> list[Period]:
    """Every period touching [first_day, last_day], both inclusive, in order."""
    _require_date(first_day, "first day")
    _require_date(last_day, "last day")
    if first_day > last_day:
        raise ValueError(f"first day {first_day.isoformat()} is after last day {last_day.isoformat()}")
    periods = [period_containing(billing_day, first_day)]
    while periods[-1].end < last_day:
        periods.append(periods[-1].next())
    return periods


def time_zone(name: str) -> ZoneInfo:
    if type(name) is not str:
        raise UnknownTimeZone(name)
    try:
        return ZoneInfo(name)
    # zoneinfo raises KeyError for a missing name and ValueError for a malformed or non-TZif path.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(name) from None


def local_day(instant: datetime, tz: str) -> date:
    if not isinstance(instant, datetime):
        raise TypeError(f"instant must be a datetime, got {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: an instant must carry its time zone")
    return instant.astimezone(time_zone(tz)).date()


def local_day_of_gregorian(gregorian_seconds: int, tz: str) -> date:
    """The local day of a Kazoo timestamp (seconds since 0000-01-01 UTC)."""
    if type(gregorian_seconds) is not int:
        raise TypeError(f"Gregorian seconds must be an int, got {gregorian_seconds!r}")
    instant = _UNIX_EPOCH + timedelta(seconds=gregorian_seconds - GREGORIAN_UNIX_OFFSET)
    return local_day(instant, tz)


def day_start_utc(day: date, tz: str) -> datetime:
    """The UTC instant at which the local day begins. Where midnight falls in a DST gap the day
    begins at the transition; zoneinfo's fold=0 maps the missing midnight to exactly that instant."""
    _require_date(day, "day")
    return datetime.combine(day, time(0), tzinfo=time_zone(tz)).astimezone(UTC)


def day_length(day: date, tz: str) -> timedelta:
    return day_start_utc(day + _ONE_DAY, tz) - day_start_utc(day, tz)


def day_length_hours(day: date, tz: str) -> int:
    """23, 24 or 25 in most zones. A zone with a half-hour shift (Australia/Lord_Howe) makes a day
    that is not a whole number of hours; rounding it would hide that, so it is refused."""
    hours, remainder = divmod(day_length(day, tz), _ONE_HOUR)
    if remainder:
        raise ValueError(f"{day.isoformat()} in {tz} lasts {day_length(day, tz)}, not a whole number of hours")
    return hours
