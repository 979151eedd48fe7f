"""Spreading a monthly cost over the days of its period.

A period's cost is split into one share per day by largest remainder: every share is the cost
divided by the days, rounded down, and the units left over go one each to the first days. A
daily fee charges one day's share; a prorated charge is the sum of the shares of the days
left. So the daily fees of an unchanged period add up to exactly its monthly cost, and the
prorated parts of any split of a period add up to exactly the whole (onbill lost the
remainder to integer division, and its prorated amounts were floats).
"""

from __future__ import annotations


def _check(monthly: int, days: int, index: int) -> None:
    if type(monthly) is not int or monthly < 0:
        raise ValueError(f"a monthly cost must be a non-negative whole number of units, not {monthly!r}")
    if type(days) is not int or not 1 <= days <= 31:
        raise ValueError(f"a period has 1 to 31 days, not {days!r}")
    if type(index) is not int or not 0 <= index <= days:
        raise ValueError(f"day index {index!r} is outside a {days}-day period")


def daily_share(monthly: int, days: int, day_index: int) -> int:
    """The share of day `day_index` (0 = the period's first day)."""
    _check(monthly, days, day_index)
    if day_index == days:
        raise ValueError(f"day index {day_index} is outside a {days}-day period")
    base, leftover = divmod(monthly, days)
    return base + (1 if day_index < leftover else 0)


def remaining_share(monthly: int, days: int, first_index: int) -> int:
    """The shares of days `first_index` to the period's end, i.e. the cost of the days left."""
    _check(monthly, days, first_index)
    base, leftover = divmod(monthly, days)
    return base * (days - first_index) + max(leftover - first_index, 0)
