from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.money import (
    MoneyError,
    Rounding,
    exact,
    exact_units,
    from_json_number,
    round_units,
    to_major,
    to_minor_units,
    units_from_major,
    units_from_minor,
)
from bookkeeper.money_display import format_money


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False))
def test_a_json_number_decoded_as_a_float_reads_back_as_its_literal(amount):
    import json

    decoded = json.loads(str(amount))
    assert from_json_number(decoded) == amount


def test_one_rouble_is_ten_thousand_units():
    assert units_from_major("500.00") == 5_000_000
    assert units_from_major(Decimal("0.0001")) == 1
    assert units_from_major(3) == 30_000
    assert to_major(4_838_710) == Decimal("483.871")


@pytest.mark.parametrize("bad", [1.5, 0.1, float("nan"), True, None, [1], "twelve", "NaN", "Infinity", Decimal("NaN")])
def test_anything_but_an_exact_amount_is_refused_naming_the_field(bad):
    with pytest.raises(MoneyError) as refused:
        units_from_major(bad, field="plan.devices.sip_device.rate")
    assert refused.value.field == "plan.devices.sip_device.rate"


@pytest.mark.parametrize(
    "value, policy, expected",
    [
        (Decimal("2.5"), Rounding.HALF_AWAY_FROM_ZERO, 3),
        (Decimal("-2.5"), Rounding.HALF_AWAY_FROM_ZERO, -3),
        (Decimal("2.5"), Rounding.HALF_EVEN, 2),
        (Decimal("3.5"), Rounding.HALF_EVEN, 4),
        (Decimal("2.9"), Rounding.TOWARD_ZERO, 2),
        (Decimal("-2.9"), Rounding.TOWARD_ZERO, -2),
    ],
)
def test_rounding_policies_are_named_and_do_what_they_say(value, policy, expected):
    assert round_units(value, policy) == expected


def test_a_worked_proration_rounds_half_away_from_zero():
    # 500.00 RUB for 12 of 31 days = 193.548387... RUB = 1,935,483.87 units → 1,935,484
    assert round_units(Decimal(5_000_000) * 12 / 31) == 1_935_484


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False))
def test_major_units_convert_to_units_exactly_at_four_places(amount):
    assert to_major(units_from_major(amount)) == amount


@given(st.integers(-(10**18), 10**18))
def test_exact_accepts_any_integer_and_keeps_it(value):
    assert exact(value) == value and units_from_major(value) == value * 10_000


def test_documents_show_the_minor_unit_rounded_half_away_from_zero():
    assert to_minor_units(12_345, "RUB") == Decimal("1.23")
    assert to_minor_units(12_350, "RUB") == Decimal("1.24")
    assert to_minor_units(-12_350, "USD") == Decimal("-1.24")
    assert to_minor_units(15_000, "JPY") == Decimal("2")


def test_display_formats_in_the_resellers_locale():
    assert format_money(5_000_000, "RUB", "ru_RU") == "500,00\xa0₽"
    assert format_money(-12_345, "USD", "en-US") == "-$1.23"
    assert format_money(50, "USD") == "$0.01"  # 0.005: half away from zero, not Babel's half-even


@pytest.mark.parametrize("value, units", [("25", 250_000), (Decimal("25.50"), 255_000), (1, 10_000), ("0.01", 100)])
def test_exact_units_of_a_typed_amount(value, units):
    assert exact_units(value) == units


@pytest.mark.parametrize("value", ["0", "-1", "0.001", Decimal("1e400"), Decimal("NaN"), "1" + "0" * 12, 1.5, True])
def test_exact_units_refuse_what_is_not_a_plain_amount(value):
    with pytest.raises(MoneyError):
        exact_units(value)


@given(st.integers(min_value=1, max_value=10**14 - 1))
def test_exact_units_read_back_any_amount_of_cents(cents):
    assert exact_units(Decimal(cents) / 100) == cents * 100


def test_a_documents_total_in_kopecks_or_yen_is_read_back_as_kazoo_units():
    assert units_from_minor(485_333, "RUB") == 48_533_300  # 4,853.33 ₽
    assert units_from_minor(-4_460, "EUR") == -446_000  # a credit note's −44.60 €
    assert units_from_minor(1_234, "JPY") == 12_340_000  # yen have no minor unit


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["RUB", "EUR", "JPY"]))
def test_minor_units_go_to_kazoo_units_and_back_unchanged(minor, code):
    places = 0 if code == "JPY" else 2
    assert to_minor_units(units_from_minor(minor, code), code) == Decimal(minor).scaleb(-places)
