"""VAT on a document, in the currency's minor units (kopecks, cents).

A reseller's prices either exclude VAT (`netto`: VAT is added on top), include it (`brutto`: VAT
is the part of the price it already holds), or carry none. Who rounds where is the carrier's
rule, by default its jurisdiction's practice:
- `per_line` (Russia, the счёт-фактура): every line's VAT is rounded half away from zero, and the
  document's totals are the sums of its lines;
- `per_rate` (the EU, EN 16931 BR-CO-17): the VAT of a rate is rounded once, over the sum of the
  lines' net amounts (under brutto: the part of the lines' gross sum the rate holds), and shared
  out to the lines, each within a minor unit of its own rounding, so that the lines still add up.
Either way net + VAT = gross holds for every line and for the totals, and the totals are the sums
of the lines: a document never shows a total its lines do not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.money import round_units

NETTO, BRUTTO, NO_VAT = "netto", "brutto", "none"
PER_LINE, PER_RATE = "per_line", "per_rate"


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


def taxed(price_minor: int, policy: VatPolicy) -> Taxed:
    """A line's price (minor units, as the reseller set it: net for netto, gross for brutto)."""
    if isinstance(price_minor, bool) or not isinstance(price_minor, int):
        raise VatError("amount", "must be a whole number of minor units")
    if not policy.charged:
        return Taxed(price_minor, 0, price_minor)
    if policy.disposition == NETTO:
        vat = round_units(Decimal(price_minor) * policy.rate / 100)
        return Taxed(price_minor, vat, price_minor + vat)
    vat = round_units(Decimal(price_minor) * policy.rate / (100 + policy.rate))
    return Taxed(price_minor - vat, vat, price_minor)


def total(lines: list[Taxed]) -> Taxed:
    result = ZERO
    for line in lines:
        result = result + line
    return result


def vat_of_sum(price_minor: int, policy: VatPolicy) -> int:
    """The VAT one rounding gives a sum of prices (net under netto, gross under brutto)."""
    return taxed(price_minor, policy).vat


def taxed_lines(prices_minor: list[int], policy: VatPolicy, rounding: str = PER_LINE) -> list[Taxed]:
    """Every line taxed under the carrier's rounding rule; their sum is the document's totals."""
    if rounding not in (PER_LINE, PER_RATE):
        raise VatError("vat_rounding", f"must be {PER_LINE} or {PER_RATE}")
    lines = [taxed(price, policy) for price in prices_minor]
    if rounding == PER_LINE or not policy.charged or not lines:
        return lines
    # The rate's VAT, rounded once; what the lines' own roundings miss goes a minor unit at a time
    # to the largest lines (fewer than one unit a line: each line rounds within half a unit).
    missing = vat_of_sum(sum(prices_minor), policy) - sum(line.vat for line in lines)
    step = 1 if missing > 0 else -1
    for index in sorted(range(len(lines)), key=lambda i: (-abs(prices_minor[i]), i))[: abs(missing)]:
        line = lines[index]
        vat = line.vat + step
        lines[index] = (
            Taxed(line.net, vat, line.net + vat)
            if policy.disposition == NETTO
            else Taxed(line.gross - vat, vat, line.gross)
        )
    return lines
