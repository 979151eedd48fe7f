"""The arithmetic a document line shows, so that a reader can check it with a calculator:
quantity × unit price (× the share of the period) (− a discount) = the line's amount.

- a month's charge: "3 × 350.00 = 1,050.00", or "3 × 350.00 − 50.00 = 1,000.00" where the plan
  gives a discount, or "1 × 1,500.00" for a flat price;
- a prorated charge shows the units it added (or removed, as a negative quantity) and the share
  of the period: "2 × 350.00 × 28/30 = 653.33";
- daily fees: the days times the day's price of the line's items ("Desk phone × 3": 11 × 0.60);
- an activation: the items activated times the plan's activation charge;
- anything else (a one-time debit, the calls of a period): what one costs.

The amount is always the ledger's, what the balance was charged; the arithmetic is read from the
charge's own record (its rate, its monthly cost, the level it was charged from). Where the month
does not divide evenly, Kazbill splits it into daily shares whose leftover units go to the first
days (bookkeeper.domain.proration), so the product and the amount can differ by those units,
a few ten-thousandths of the currency: each line's `slack` bounds it, and a test holds every
line to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bookkeeper.domain.money import round_units


@dataclass(frozen=True)
class Arithmetic:
    quantity: int  # items (negative: removed), or days for a daily line
    unit_price: int  # units (1/10,000 of the currency): per item a month, or the line's price a day
    share: tuple[int, int] | None = None  # days charged / days in the period
    less: int = 0  # a discount the plan gives, units
    slack: int = 0  # how far the product may be from the ledger's amount, units (see the module)

    def product(self) -> Fraction:
        value = Fraction(self.quantity * self.unit_price)
        if self.share:
            value *= Fraction(self.share[0], self.share[1])
        return value - self.less


def one(amount: int) -> Arithmetic:
    return Arithmetic(1, amount)


def monthly(meta: Mapping[str, Any], amount: int) -> Arithmetic:
    """A month: the items times the rate, less the plan's discount; or the items added times what
    each adds (an increase the plan does not prorate); or one price."""
    units, added = _added(meta)
    if added != amount or units <= 0:
        return one(amount)
    rate = whole(meta.get("rate"))
    if whole(meta.get("from_quantity")) == 0 and rate > 0 and units * rate >= amount:
        return Arithmetic(units, rate, less=units * rate - amount)
    if added % units == 0:
        return Arithmetic(units, added // units)
    return one(amount)


def prorated(meta: Mapping[str, Any], amount: int) -> Arithmetic:
    """Part of a month: the units added (removed: negative) times what each costs a month, times
    the share of the period. The product is the exact share; the amount is the sum of the days'
    shares, each within a unit of it, so they differ by at most the period's days in units.
    Entries written before the record named the level charged from show one price."""
    share = _share(meta.get("ratio"))
    if share is None or "from_quantity" not in meta:
        return one(amount)
    units, added = _added(meta)
    slack = share[1]
    if share[0] == share[1]:
        share, slack = None, 0  # the whole period: nothing to take a share of
    if units and added and added % units == 0 and (added > 0) == (units > 0):
        return Arithmetic(units, added // units, share, slack=slack)
    if added:
        return Arithmetic(1 if added > 0 else -1, abs(added), share, slack=slack)
    return one(amount)


def activation(meta: Mapping[str, Any], amount: int) -> Arithmetic:
    """Items activated: the units added times the plan's activation charge."""
    units = whole(meta.get("quantity")) - whole(meta.get("from_quantity"))
    if "from_quantity" in meta and units > 0 and amount % units == 0:
        return Arithmetic(units, amount // units)
    return one(amount)


def _added(meta: Mapping[str, Any]) -> tuple[int, int]:
    """The units the charge added and the monthly cost they added (negative when removed)."""
    return (
        whole(meta.get("quantity")) - whole(meta.get("from_quantity")),
        whole(meta.get("monthly")) - whole(meta.get("from_monthly")),
    )


def daily(days: int, amount: int) -> Arithmetic:
    """Daily fees over `days` days: the days times the day's price of the line's items (the
    average of the days, which differ by a unit where the month does not divide evenly)."""
    if days <= 0:
        return one(amount)
    return Arithmetic(days, round_units(Decimal(amount) / days), slack=(days + 1) // 2)


def _share(ratio: Any) -> tuple[int, int] | None:
    if not isinstance(ratio, str) or "/" not in ratio:
        return None
    charged, _, period = ratio.partition("/")
    if not (charged.isdigit() and period.isdigit()) or not 0 < int(charged) <= int(period):
        return None
    return int(charged), int(period)


def whole(value: Any) -> int:
    """A whole number read from a record, 0 where it has none."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
