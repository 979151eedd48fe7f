"""A buyer's legal details are checked as the tax offices check them: an INN's check digits, a
KPP's shape, an EU VAT number's format per member state; what is wrong is named by field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.documents.legal_details import (
    INN_10_WEIGHTS,
    INN_11_WEIGHTS,
    INN_12_WEIGHTS,
    LegalDetailsError,
    inn_is_valid,
    parse_legal,
    vat_id_problem,
)


def with_check_digits(body: str) -> str:
    """An INN made valid: the Federal Tax Service's weights over the digits before each check digit."""

    def digit(digits: str, weights) -> str:
        return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)

    if len(body) == 9:
        return body + digit(body, INN_10_WEIGHTS)
    eleventh = body + digit(body, INN_11_WEIGHTS)
    return eleventh + digit(eleventh, INN_12_WEIGHTS)


def test_a_russian_organisations_details_are_kept_trimmed_and_its_tax_ids_checked():
    details = parse_legal(
        {
            "name": " ООО «Альфа Такси» ",
            "address": "Москва, ул. Тверская, 1",
            "inn": "7707 083893",
            "kpp": "773601001",
            "registration": "1027700132195",
        }
    )
    assert details == {
        "name": "ООО «Альфа Такси»",
        "address": "Москва, ул. Тверская, 1",
        "inn": "7707083893",
        "kpp": "773601001",
        "registration": "1027700132195",
    }
    assert inn_is_valid("500100732259")  # a person's: 12 digits, two check digits


@pytest.mark.parametrize(
    "legal, field",
    [
        ({"inn": "7707083894"}, "legal.inn"),  # the check digit is 3
        ({"inn": "77070838"}, "legal.inn"),
        ({"inn": "7707083893", "kpp": "7736010"}, "legal.kpp"),
        ({"inn": "500100732259", "kpp": "773601001"}, "legal.kpp"),  # a person has no KPP
        ({"vat_id": "DE12345678"}, "legal.vat_id"),  # Germany: nine digits
        ({"vat_id": "US123456789"}, "legal.vat_id"),
        ({"country": "Russia"}, "legal.country"),
        ({"name": ""}, "legal.name"),
        ({"name": "x" * 301}, "legal.name"),
        ({"director": "Иванов"}, "legal.director"),
    ],
)
def test_a_wrong_detail_is_refused_naming_it(legal, field):
    with pytest.raises(LegalDetailsError) as refused:
        parse_legal(legal)
    assert refused.value.field == field


def test_eu_vat_numbers_follow_their_member_states_format():
    for good in ("DE123456789", "FR40303265045", "NL123456789B01", "ATU12345678", "EL123456789", "IE1234567WA"):
        assert vat_id_problem(good) is None, good
    assert parse_legal({"vat_id": "de 123 456 789"})["vat_id"] == "DE123456789"


@given(
    st.text("0123456789", min_size=9, max_size=9) | st.text("0123456789", min_size=10, max_size=10), st.integers(1, 9)
)
def test_an_inn_with_its_check_digits_is_valid_and_a_wrong_check_digit_is_not(body, shift):
    """Invariants: any body with the check digits the rule gives is an INN; the same body with
    its last check digit wrong is not; neither is a length other than 10 or 12."""
    inn = with_check_digits(body)
    assert inn_is_valid(inn)
    wrong = inn[:-1] + str((int(inn[-1]) + shift) % 10)
    assert not inn_is_valid(wrong)
    assert not inn_is_valid(inn[:-1]) and not inn_is_valid(inn + "0")
