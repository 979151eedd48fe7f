"""A plan names its items per language ("names": {"de": "Tischtelefon"}), and a document in that
language calls the item so: the name travels with each charge into the ledger, so a document
issued later still says what the plan said when it charged. A bad translation names its field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bookkeeper.domain.documents.carriers import parse_carrier
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import invoice_lines
from bookkeeper.domain.documents.vat import VatPolicy
from bookkeeper.domain.ledger import ledger_document
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plan_pricing import price_item
from bookkeeper.domain.plans import PlanError, parse_plan_item
from bookkeeper.domain.recurring import opening_charges

PHONE = parse_plan_item(
    "devices", "sip_device", {"name": "Desk phone", "rate": 6, "names": {"de": "Tischtelefon", "ru": "Телефон"}}
)
NOVEMBER = period_containing(1, date(2026, 11, 1))


def shown_name(language: str) -> str:
    charges = opening_charges(NOVEMBER, NOVEMBER.start, [price_item(PHONE, 2)], prorate=False)
    entries = [
        ledger_document(c, account_id="a" * 32, account_name="A", currency="EUR", tz="Europe/Berlin", now_gregorian=0)
        for c in charges
    ]
    data = document_data(
        document_type="invoice",
        carrier=parse_carrier({"id": "c", "name": "C", "main": True}),
        customer={"id": "a", "name": "A"},
        period_start=NOVEMBER.start,
        period_end=NOVEMBER.end,
        issued=NOVEMBER.end,
        number="1",
        sequence_number=1,
        currency="EUR",
        language=language,
        vat=VatPolicy("none", Decimal(0)),
        lines=invoice_lines(entries, NOVEMBER.start, NOVEMBER.end, "EUR", "UTC"),
    )
    return data["lines"][0]["name"]


def test_each_language_reads_the_plans_own_word_for_an_item():
    assert [shown_name(language) for language in ("de", "ru", "en")] == ["Tischtelefon", "Телефон", "Desk phone"]


@pytest.mark.parametrize(
    "names, field",
    [
        (["Tischtelefon"], "plan.devices.sip_device.names"),
        ({"deu": "Tischtelefon"}, "plan.devices.sip_device.names.deu"),
        ({"de": ""}, "plan.devices.sip_device.names.de"),
        ({"de": "x" * 201}, "plan.devices.sip_device.names.de"),
    ],
)
def test_a_bad_translation_names_its_field(names, field):
    with pytest.raises(PlanError) as raised:
        parse_plan_item("devices", "sip_device", {"rate": 6, "names": names})
    assert raised.value.field == field
