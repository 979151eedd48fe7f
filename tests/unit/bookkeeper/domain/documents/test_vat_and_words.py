"""VAT per line (netto, brutto, none) and amounts in words (Russian genders and plural forms,
English): worked examples from real invoices, and their invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.documents.vat import BRUTTO, NETTO, NO_VAT, Taxed, VatError, VatPolicy, taxed, total
from bookkeeper.domain.documents.words import amount_in_words, number_en, number_ru, plural_ru

TWENTY = Decimal(20)


@pytest.mark.parametrize(
    "price, policy, expected",
    [
        (100_000, VatPolicy(NETTO, TWENTY), Taxed(100_000, 20_000, 120_000)),  # 1,000.00 + 20 %
        (120_000, VatPolicy(BRUTTO, TWENTY), Taxed(100_000, 20_000, 120_000)),  # 1,200.00 of which 200.00 VAT
        (48_387, VatPolicy(BRUTTO, TWENTY), Taxed(40_322, 8_065, 48_387)),  # 80.645 → 80.65 VAT (half away)
        (33, VatPolicy(NETTO, Decimal(18)), Taxed(33, 6, 39)),  # 5.94 → 6
        (-48_387, VatPolicy(BRUTTO, TWENTY), Taxed(-40_322, -8_065, -48_387)),  # a credit line mirrors a debit
        (100_000, VatPolicy(NO_VAT, TWENTY), Taxed(100_000, 0, 100_000)),
        (100_000, VatPolicy(NETTO, Decimal(0)), Taxed(100_000, 0, 100_000)),
    ],
)
def test_worked_examples_of_vat_on_a_line(price, policy, expected):
    assert taxed(price, policy) == expected


def test_a_bad_vat_policy_names_its_field():
    with pytest.raises(VatError) as raised:
        VatPolicy("gross", TWENTY)
    assert raised.value.field == "vat_disposition"
    with pytest.raises(VatError) as raised:
        VatPolicy(NETTO, Decimal(120))
    assert raised.value.field == "vat_rate"


POLICIES = st.builds(
    VatPolicy,
    st.sampled_from([NETTO, BRUTTO, NO_VAT]),
    st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False),
)


@given(prices=st.lists(st.integers(-(10**12), 10**12), max_size=30), policy=POLICIES)
def test_net_and_vat_always_make_the_gross_per_line_and_in_total(prices, policy):
    lines = [taxed(price, policy) for price in prices]
    for price, line in zip(prices, lines, strict=True):
        assert line.net + line.vat == line.gross
        assert line.gross == price if policy.disposition == BRUTTO else line.net == price
        assert abs(line.vat) <= abs(line.gross)
        assert taxed(-price, policy) == Taxed(-line.net, -line.vat, -line.gross)  # symmetric rounding
    summed = total(lines)
    assert summed == Taxed(sum(x.net for x in lines), sum(x.vat for x in lines), sum(x.gross for x in lines))


@pytest.mark.parametrize(
    "minor, currency, language, text",
    [
        (120_050, "RUB", "ru", "Одна тысяча двести рублей 50 копеек"),
        (2_100_001, "RUB", "ru", "Двадцать одна тысяча рублей 01 копейка"),
        (2_200_201, "RUB", "ru", "Двадцать две тысячи два рубля 01 копейка"),
        (1_112_000_000, "RUB", "ru", "Одиннадцать миллионов сто двадцать тысяч рублей 00 копеек"),
        (1_403, "RUB", "ru", "Четырнадцать рублей 03 копейки"),
        (12_345, "EUR", "ru", "Сто двадцать три евро 45 центов"),
        (120_050, "USD", "en", "One thousand two hundred US dollars and 50 cents"),
        (2_101, "USD", "en", "Twenty-one US dollars and 01 cent"),
        (100, "EUR", "en", "One euro and 00 cents"),
        (12_345, "KZT", "en", "One hundred twenty-three KZT 45/100"),
        (2_142, "EUR", "de", "Einundzwanzig Euro und 42 Cent"),
        (100_100, "EUR", "de", "Eintausendein Euro und 00 Cent"),
        (250_000_000, "EUR", "de", "Zwei Millionen fünfhunderttausend Euro und 00 Cent"),
        (123_456, "RUB", "de", "Eintausendzweihundertvierunddreißig Rubel und 56 Kopeken"),
    ],
)
def test_worked_examples_of_totals_in_words(minor, currency, language, text):
    assert amount_in_words(minor, currency, language) == text


@pytest.mark.parametrize(
    "count, form",
    [
        (1, "рубль"),
        (2, "рубля"),
        (4, "рубля"),
        (5, "рублей"),
        (11, "рублей"),
        (14, "рублей"),
        (21, "рубль"),
        (22, "рубля"),
        (111, "рублей"),
        (0, "рублей"),
    ],
)
def test_russian_plural_forms(count, form):
    assert plural_ru(count, ("рубль", "рубля", "рублей")) == form


@given(st.integers(0, 10**15 - 1), st.integers(0, 10**15 - 1))
def test_different_numbers_are_spelled_differently(first, second):
    if first != second:
        assert number_ru(first) != number_ru(second) and number_en(first) != number_en(second)


def test_negative_or_fractional_amounts_are_not_spelled():
    for bad in (-1, True, Decimal("1.5")):
        with pytest.raises(ValueError):
            amount_in_words(bad, "RUB", "ru")  # type: ignore[arg-type]
