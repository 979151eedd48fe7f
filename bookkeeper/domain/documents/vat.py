"""VAT on a document line, in the currency's minor units (kopecks, cents).

A reseller's prices either exclude VAT (`netto`: VAT is added on top), include it (`brutto`: VAT
is the part of the price it already holds), or carry none. VAT is computed per line and rounded
half away from zero, and the document's totals are the sums of its lines, as Russian invoices
(счёт-фактура) require; so net + VAT = gross holds for every line and for the totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bookkeeper.domain.errors import FieldError

NETTO, BRUTTO, NO_VAT = "netto", "brutto", "none"


class VatError(FieldError):
    """A VAT setting documents cannot use."""


@dataclass(frozen=True)
class VatPolicy:
    disposition: str = NO_VAT
    rate: Decimal = Decimal(0)  # per cent

    def __post_init__(self) -> None:
        if self.disposition not in (NETTO, BRUTTO, NO_VAT):
            raise VatError("vat_disposition", f"must be one of {NETTO}, {BRUTTO}, {NO_VAT}")
        if not isinstance(self.rate, Decimal) or not Decimal(0) <= self.rate <= Decimal(100):
            raise VatError("vat_rate", "must be a percentage from 0 to 100")

    @property
    def charged(self) -> bool:
        return self.disposition != NO_VAT and self.rate > 0


@dataclass(frozen=True)
class Taxed:
    net: int
    vat: int
    gross: int

    def __add__(self, other: Taxed) -> Taxed:
        return Taxed(self.net + other.net, self.vat + other.vat, self.gross + other.gross)


ZERO = Taxed(0, 0, 0)


def _half_away(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def taxed(price_minor: int, policy: VatPolicy) -> Taxed:
    """A line's price (minor units, as the reseller set it: net for netto, gross for brutto)."""
    if isinstance(price_minor, bool) or not isinstance(price_minor, int):
        raise VatError("amount", "must be a whole number of minor units")
    if not policy.charged:
        return Taxed(price_minor, 0, price_minor)
    if policy.disposition == NETTO:
        vat = _half_away(Decimal(price_minor) * policy.rate / 100)
        return Taxed(price_minor, vat, price_minor + vat)
    vat = _half_away(Decimal(price_minor) * policy.rate / (100 + policy.rate))
    return Taxed(price_minor - vat, vat, price_minor)


def total(lines: list[Taxed]) -> Taxed:
    result = ZERO
    for line in lines:
        result = result + line
    return result
