"""Where VAT is rounded: per line (Russia's счёт-фактура) or once per rate over the lines' sum
(the EU, EN 16931 BR-CO-17), the carrier's rule defaulting to its jurisdiction's practice.
Worked examples, and the invariants: the lines always add up to the totals, and per rate the
total VAT is exactly the rate's one rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.documents.carriers import CarrierError, parse_carrier
from bookkeeper.domain.documents.vat import (
    BRUTTO,
    NETTO,
    NO_VAT,
    PER_LINE,
    PER_RATE,
    Taxed,
    VatError,
    VatPolicy,
    taxed,
    taxed_lines,
    total,
    vat_of_sum,
)

NINETEEN = VatPolicy(NETTO, Decimal(19))


def test_three_small_lines_are_taxed_per_rate_in_the_eu_and_per_line_in_russia():
    # 3 × 0.33 net at 19 %: per line 0.0627 → 0.06 each, 0.18 in all; per rate 0.99 × 19 % = 0.1881 → 0.19.
    per_line = taxed_lines([33, 33, 33], NINETEEN, PER_LINE)
    assert total(per_line) == Taxed(99, 18, 117)
    per_rate = taxed_lines([33, 33, 33], NINETEEN, PER_RATE)
    assert total(per_rate) == Taxed(99, 19, 118)
    assert [line.vat for line in per_rate] == [7, 6, 6]  # the missing cent goes to the first largest line


def test_the_rule_decides_the_vat_and_the_lines_always_add_up_to_it():
    # Ten lines of 0.18 net at 19 %: per line 0.0342 → 0.03 each, 0.30; per rate 1.80 × 19 % =
    # 0.342 → 0.34. Under either rule the totals are what the lines show.
    prices = [18] * 10
    assert total(taxed_lines(prices, NINETEEN, PER_LINE)) == Taxed(180, 30, 210)
    per_rate = taxed_lines(prices, NINETEEN, PER_RATE)
    assert total(per_rate) == Taxed(180, 34, 214)
    assert sum(line.vat for line in per_rate) == vat_of_sum(180, NINETEEN) == 34


def test_brutto_per_rate_takes_the_vat_the_gross_sum_holds():
    # 3 × 1.00 gross at 20 %: per line 0.1667 → 0.17 each (0.51); per rate 3.00 / 6 = 0.50.
    lines = taxed_lines([100, 100, 100], VatPolicy(BRUTTO, Decimal(20)), PER_RATE)
    assert total(lines) == Taxed(250, 50, 300)
    assert all(line.gross == 100 for line in lines)  # what was charged stays each line's gross


def test_a_carrier_rounds_as_its_jurisdiction_does_unless_it_says_otherwise():
    assert parse_carrier({"id": "volna", "name": "Волна", "legal": {"inn": "7701234567"}}).vat_rounding == PER_LINE
    assert parse_carrier({"id": "ru", "name": "Волна", "legal": {"country": "RU"}}).vat_rounding == PER_LINE
    assert parse_carrier({"id": "fjord", "name": "Fjord GmbH", "legal": {"vat_id": "DE123"}}).vat_rounding == PER_RATE
    assert parse_carrier({"id": "x", "name": "X", "vat_rounding": "per_line"}).vat_rounding == PER_LINE
    with pytest.raises(CarrierError) as raised:
        parse_carrier({"id": "x", "name": "X", "vat_rounding": "per_invoice"}, "carriers[0]")
    assert raised.value.field == "carriers[0].vat_rounding"
    with pytest.raises(VatError) as vat_raised:
        taxed_lines([1], NINETEEN, "per_invoice")
    assert vat_raised.value.field == "vat_rounding"


POLICIES = st.builds(
    VatPolicy,
    st.sampled_from([NETTO, BRUTTO, NO_VAT]),
    st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False),
)


@given(prices=st.lists(st.integers(-(10**9), 10**9), max_size=40), policy=POLICIES)
def test_per_rate_the_vat_is_one_rounding_and_every_line_stays_within_a_unit_of_its_own(prices, policy):
    lines = taxed_lines(prices, policy, PER_RATE)
    summed = total(lines)
    assert summed.vat == (vat_of_sum(sum(prices), policy) if policy.charged else 0)
    for price, line in zip(prices, lines, strict=True):
        assert line.net + line.vat == line.gross
        assert (line.gross if policy.disposition == BRUTTO else line.net) == price  # as charged
        assert abs(line.vat - taxed(price, policy).vat) <= 1
