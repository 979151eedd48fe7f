"""Values read from a request's query string, path or body, parsed at the edge into the types the
handlers use: whole numbers, Gregorian seconds, days and amounts. Each refuses what it cannot
hold exactly with a 400 naming its field, before anything downstream can overflow on it
(`datetime` ends at year 9999, Kazoo's monthly databases need the month before and after, and
Decimal arithmetic rounds past 28 digits)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal, Inexact, localcontext
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import gregorian_of, to_gregorian_seconds
from bookkeeper.domain.money import UNITS_PER_MAJOR
from crossbar_api.errors import invalid

# Days the API reads: every computation around them (the period around a day, the month before
# and after it, Kazoo's monthly database name) stays inside what `date` and Kazoo can name.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
FIRST_GREGORIAN = to_gregorian_seconds(0)
LAST_GREGORIAN = gregorian_of(datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC))
# `str.isdigit` is true of "²" and of Arabic-Indic digits, which `int` then reads or refuses:
# only ASCII digits are a number here.
_WHOLE = re.compile(r"[0-9]{1,18}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Amounts a person sets or posts: nobody pays or allows a trillion.
MAX_MAJOR = Decimal(10) ** 12 - 1


def whole(raw: str, name: str, minimum: int, maximum: int) -> int:
    """A whole number written in ASCII digits, from `minimum` to `maximum`."""
    if not _WHOLE.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise invalid(name, "type", f"must be a whole number from {minimum} to {maximum}")
    return int(raw)


def whole_param(req: falcon.Request, name: str, minimum: int, maximum: int) -> int | None:
    raw = req.get_param(name)
    return None if raw is None else whole(raw, name, minimum, maximum)


def gregorian(raw: str, name: str) -> int:
    """Gregorian seconds (Kazoo's clock) of a moment from 1970 to the end of 9998."""
    if not _WHOLE.fullmatch(raw) or not FIRST_GREGORIAN <= int(raw) <= LAST_GREGORIAN:
        raise invalid(
            name, "type", f"must be Gregorian seconds (a whole number from {FIRST_GREGORIAN} to {LAST_GREGORIAN})"
        )
    return int(raw)


def gregorian_param(req: falcon.Request, name: str) -> int | None:
    raw = req.get_param(name)
    return None if raw is None else gregorian(raw, name)


def page_position(raw: str, name: str = "start_key") -> tuple[int, str]:
    """An opaque page key "<created>:<id>", as the previous page's next_start_key gave it."""
    created, _, entry_id = raw.partition(":")
    if not _WHOLE.fullmatch(created) or not entry_id:
        raise invalid(name, "format", "use the next_start_key of the previous page")
    return int(created), entry_id


def day(value: Any, name: str) -> date:
    """A day written YYYY-MM-DD in ASCII digits, from 1970 to 9998."""
    text = value if isinstance(value, str) else ""
    try:
        parsed = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        parsed = None
    if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
        raise invalid(name, "format", f"a day, YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}")
    return parsed


def amount_units(value: Any, name: str, *, zero_allowed: bool = False, maximum: Decimal = MAX_MAJOR) -> int:
    """An amount in currency units (a JSON number read as Decimal) as Kazoo units: at most four
    decimals, at most `maximum`; refused, never rounded, otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise invalid(name, "type", "must be a JSON number in currency units, e.g. 12.50")
    if value < 0 or (value == 0 and not zero_allowed):
        raise invalid(name, "minimum", f"must be {'zero or more' if zero_allowed else 'greater than zero'}")
    if value > maximum:
        raise invalid(name, "maximum", f"must be at most {maximum:,}")
    with localcontext() as context:
        context.prec = 40  # a bounded amount times 10,000 fits; Inexact catches any digit lost
        context.traps[Inexact] = True
        try:
            units = Decimal(value) * UNITS_PER_MAJOR
        except Inexact:
            units = None
    if units is None or units != units.to_integral_value():
        raise invalid(name, "precision", "at most 4 decimal places")
    return int(units)


def document_numbers(value: Any, path: str) -> Any:
    """The request's exact numbers (Decimal) as the JSON numbers a Kazoo document holds: a
    literal with a point or an exponent becomes a float whose repr is that literal, so the
    document reads back as it was sent (bookkeeper.domain.money.from_json_number reads it so).
    A literal a double cannot hold exactly is refused, not rounded."""
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number) or Decimal(repr(number)) != value:
            raise invalid(path, "precision", "the number has more digits than a document can keep (at most 15)")
        return number
    if isinstance(value, dict):
        return {key: document_numbers(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [document_numbers(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return value
