"""Money: integer Kazoo units, Decimal in between, and named rounding.

Kazoo 4.3 keeps amounts as integers in units, 10,000 units to one currency unit (dollar,
rouble, euro). Every amount Kazbill stores is such an integer. Prices arrive in currency units
(a plan says `"rate": 500.00`), ratios come from days (`12/31`), and the product of the two is
a Decimal until the moment a ledger entry is written, when it is rounded to a unit by a named
policy. No float ever touches money: constructors refuse them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import Enum

UNITS_PER_MAJOR = 10_000
Exact = int | Decimal | str  # what money may be made from: never a float


class MoneyError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Rounding(Enum):
    """Named rounding policies. Decimal's ROUND_HALF_UP rounds half away from zero."""

    HALF_AWAY_FROM_ZERO = ROUND_HALF_UP
    HALF_EVEN = ROUND_HALF_EVEN
    TOWARD_ZERO = ROUND_DOWN


# A ledger entry is rounded to a unit when it is written, half away from zero (billing rules).
LEDGER_ROUNDING = Rounding.HALF_AWAY_FROM_ZERO
# Documents show the currency's minor unit (kopecks, cents), also half away from zero.
DISPLAY_ROUNDING = Rounding.HALF_AWAY_FROM_ZERO


def exact(value: object, field: str = "amount") -> Decimal:
    """A Decimal from an int, a Decimal or a numeric string; floats and bools are refused."""
    if isinstance(value, (bool, float)):
        raise MoneyError(field, f"{type(value).__name__} {value!r} is not an exact amount; use Decimal or str")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(field, f"{value!r} is not a finite amount")
        return value
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(field, f"{value!r} is not a number") from None
        if not parsed.is_finite():
            raise MoneyError(field, f"{value!r} is not a finite amount")
        return parsed
    raise MoneyError(field, f"{type(value).__name__} is not an amount")


def from_json_number(value: object, field: str = "amount") -> Decimal:
    """A number read from a stored JSON document, for the edge where documents become domain
    values. JSON clients decode `500.5` as a float; the float's repr is the shortest text that
    reads back as the same double, which is the literal the document held (for any literal of up
    to 15 significant digits, i.e. any price), so going through repr recovers it exactly."""
    if isinstance(value, float) and math.isfinite(value):
        value = repr(value)
    return exact(value, field)


def units(value: object, field: str = "amount") -> int:
    """An amount already in units must be an int (never a float, never a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(field, f"{value!r} is not a whole number of units")
    return value


def round_units(value: Decimal, policy: Rounding = LEDGER_ROUNDING) -> int:
    with localcontext() as context:
        context.prec = 60  # far beyond any amount: rounding happens only here, by policy
        return int(value.quantize(Decimal(1), rounding=policy.value))


def units_from_major(amount: object, field: str = "amount", policy: Rounding = LEDGER_ROUNDING) -> int:
    """Currency units (e.g. Decimal("500.00") roubles) to Kazoo units (5,000,000)."""
    return round_units(exact(amount, field) * UNITS_PER_MAJOR, policy)


MAX_MAJOR = Decimal(10) ** 12  # no one pays or sets a limit of a trillion; beyond it, input is hostile


def exact_units(value: object, field: str = "amount", minor_digits: int = 2) -> int:
    """Units from an amount a person typed (a top-up, a limit): positive, at most `minor_digits`
    decimals, below a trillion; refused, never rounded, otherwise."""
    major = exact(value, field)
    if not 0 < major < MAX_MAJOR:
        raise MoneyError(field, f"{value} is not a positive amount below {MAX_MAJOR:,}")
    units_value = major * UNITS_PER_MAJOR
    if major != major.quantize(Decimal(1).scaleb(-minor_digits)) or units_value != units_value.to_integral_value():
        raise MoneyError(field, f"{value} has more than {minor_digits} decimals")
    return int(units_value)


def to_major(amount_units: int) -> Decimal:
    return Decimal(units(amount_units)) / UNITS_PER_MAJOR


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217
    minor_units: int  # digits shown on documents: 2 for RUB, USD, EUR
    sign: str


CURRENCIES = {
    currency.code: currency
    for currency in (
        Currency("RUB", 2, "₽"),
        Currency("USD", 2, "$"),
        Currency("EUR", 2, "€"),
        Currency("GBP", 2, "£"),
        Currency("UAH", 2, "₴"),
        Currency("KZT", 2, "₸"),
        Currency("BYN", 2, "Br"),
        Currency("CAD", 2, "$"),
        Currency("CHF", 2, "CHF"),
        Currency("JPY", 0, "¥"),
    )
}


def currency(code: object) -> Currency:
    if not isinstance(code, str) or code.upper() not in CURRENCIES:
        raise MoneyError("currency", f"{code!r} is not a supported ISO 4217 code ({', '.join(sorted(CURRENCIES))})")
    return CURRENCIES[code.upper()]


def units_from_minor(amount_minor: int, code: str) -> int:
    """Kazoo units from an amount in the currency's minor units (a document's totals, in kopecks
    or cents as it prints them): exact, every currency's minor unit being a whole number of units."""
    return amount_minor * (UNITS_PER_MAJOR // 10 ** currency(code).minor_units)


def to_minor_units(amount_units: int, code: str, policy: Rounding = DISPLAY_ROUNDING) -> Decimal:
    """The amount as a document shows it: in currency units, at the currency's precision."""
    places = currency(code).minor_units
    return (Decimal(units(amount_units)) / UNITS_PER_MAJOR).quantize(Decimal(1).scaleb(-places), rounding=policy.value)
