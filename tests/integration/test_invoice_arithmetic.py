"""What a customer reads on an invoice adds up with a calculator, on both stores: a Russian
account's month and a mid-month increase ("2 × 500,00 × 21/30 = 700,00", VAT per line as a
счёт-фактура has it), and an EU account billed daily under netto VAT (the days times the day's
price, VAT once over the net sum as EN 16931 rounds it). The bookkeeper charges, the documents
are issued and rendered by WeasyPrint, and pdftotext reads the lines back."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import facturx
import pytest
from pypdf import PdfReader

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.documents.cii_invoice import cii_invoice
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.period_documents import DocumentPorts, issue_period_documents
from bookkeeper.services.payments.postings import apply_payment
from documents.render import WeasyRenderer
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, kazbill_entries
from testkit.support.en16931 import rule_failures, xsd_valid

pytestmark = pytest.mark.integration
MSK, BERLIN = ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Berlin")
PHONES = {
    "_id": "plan_phones",
    "name": "Phones",
    "plan": {
        "devices": {"sip_device": {"name": "Desk phone", "rate": 500}},
        "users": {"user": {"name": "Seat", "rate": 4.99}},
    },
}


def lines_read(store, db: str, doc_id: str, tmp_path: Path) -> list[str]:
    document = store.get(db, doc_id)
    pdf = tmp_path / f"{doc_id}.pdf"
    pdf.write_bytes(WeasyRenderer().document_pdf(document))  # as the document workers render it
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def test_a_russian_invoice_shows_the_units_added_and_the_share_of_the_month(store, tmp_path):
    world = World(store).build(
        reseller_onbill={
            "currency": "RUB",
            "timezone": "Europe/Moscow",
            "locale": "ru_RU",
            "default_service_plan": "plan_phones",
            "vat_disposition": "brutto",
            "vat_rate": 20,
            "carriers": [{"id": "volna", "name": "ООО «Волна Телеком»", "main": True, "legal": {"inn": "7701234567"}}],
        },
        plan=PHONES,
    )
    customer = world.customer(
        "Альфа Такси", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    reconcile_account(ports, customer)  # November: 2 × 500.00
    clock.set(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    world.add_devices(customer, 2, created=clock.now())
    reconcile_account(ports, customer)  # 2 more for the 21 days left: 700.00
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=MSK))
    (invoice, _act) = issue_period_documents(
        DocumentPorts(store, clock, world.design_docs), customer, date(2026, 11, 1)
    )
    db = account_modb(customer, 2026, 11)
    data = store.get(db, invoice.doc_id)
    # November's opening was charged before UTC's month turned, so November's database opens with
    # a debit rollover of it: money moved, no service, never a line (it was one, and billed twice).
    assert [(line["kind"], line["arithmetic"]) for line in data["lines"]] == [
        ("monthly", {"quantity": 2, "unit_price": 5_000_000, "share": None, "less": 0, "slack": 0}),
        ("prorated", {"quantity": 2, "unit_price": 5_000_000, "share": [21, 30], "less": 0, "slack": 30}),
    ]
    # VAT per line, rounded half away: 1,000.00 holds 166.67, 700.00 holds 116.67.
    assert [(line["net"], line["vat"], line["gross"]) for line in data["lines"]] == [
        (83_333, 16_667, 100_000),
        (58_333, 11_667, 70_000),
    ]
    assert data["totals"] == {"net": 141_666, "vat": 28_334, "gross": 170_000}
    read = lines_read(store, db, invoice.doc_id, tmp_path)
    assert "1 Desk phone 2 500,00 833,33 166,67 1 000,00" in read
    assert "2 Desk phone (2 → 4) 2 500,00 583,33 116,67 700,00" in read
    # the share of the month, wrapped in the description's column after its colon
    share = read.index("часть периода 21/30:")
    assert read[share + 1] == "10.11.2026–30.11.2026"
    assert "2 × 500,00 × 21/30 = 700,00" in read
    assert not [line for line in read if re.search(r"\bdays\b|\d{4}-\d{2}-\d{2}|raised", line)]  # no English


def test_an_eu_invoice_shows_the_days_price_and_rounds_vat_once_per_rate(store, tmp_path):
    world = World(store).build(
        reseller_onbill={
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "default_service_plan": "plan_phones",
            "charging": {"devices": "daily"},
            "vat_disposition": "netto",
            "vat_rate": 19,
            "carriers": [
                {
                    "id": "fjord",
                    "name": "Fjord Telecom GmbH",
                    "main": True,
                    "legal": {"address": "Friedrichstraße 1, 10117 Berlin", "country": "DE", "vat_id": "DE123456789"},
                    "bank": {"iban": "DE89 3704 0044 0532 0130 00"},
                }
            ],
        },
        plan={
            **PHONES,
            "plan": {
                "devices": {"sip_device": {"name": "Desk phone", "rate": 6}},
                **{"users": PHONES["plan"]["users"]},
            },
        },
    )
    customer = world.customer(
        "Fjord Design",
        created=datetime(2026, 1, 10, tzinfo=BERLIN),
        onbill={
            "billing_day": 1,
            "legal": {
                "name": "Fjord Design GmbH",
                "address": "Torstraße 5",
                "postcode": "10119",
                "city": "Berlin",
                "country": "DE",
                "vat_id": "DE987654321",
            },
        },
        limits=GENEROUS,
        devices=3,
    )
    for db in (ACCOUNTS_DB, account_db(customer)):
        store.put(db, {**store.get(db, customer), "language": "en-GB"})
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=BERLIN))
    ports = BillingPorts(store, clock, world.design_docs)
    for day in range(1, 31):
        clock.set(datetime(2026, 11, day, 0, 5, tzinfo=BERLIN))
        crawl_account_day(ports, customer, date(2026, 11, day))
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN))
    (invoice, _act) = issue_period_documents(
        DocumentPorts(store, clock, world.design_docs), customer, date(2026, 11, 1)
    )
    db = account_modb(customer, 2026, 11)
    data = store.get(db, invoice.doc_id)
    assert data["vat"]["rounding"] == "per_rate"
    (daily,) = data["lines"]
    assert daily["arithmetic"]["quantity"] == 30 and daily["arithmetic"]["unit_price"] == 6_000  # 3 × 6.00 / 30
    assert data["totals"] == {"net": 1_800, "vat": 342, "gross": 2_142}  # 18.00 × 19 % = 3.42, once
    # One truth under netto: the balance was debited what the invoice asks for, VAT included
    # (each day's 0.60 and its 0.114 VAT), not the net (it was 18.00 debited, 21.42 invoiced).
    assert LedgerBook(store, world.design_docs).balance(customer, (2026, 11), 0) == -214_200
    # The audit replays the plan's prices and finds each of them, as the net of its debit.
    assert audit_account(ports, customer, date(2026, 11, 1), date(2026, 11, 30)).differences == []
    read = lines_read(store, db, invoice.doc_id, tmp_path)
    assert "1 Desk phone × 3 30 days 0.60 18.00" in read
    assert "1 November 2026–30 November 2026" in read
    assert any(line.startswith("Total VAT (19%, VAT added)") and line.endswith("3.42") for line in read)
    # The same invoice as an EN 16931 e-invoice: a PDF/A-3 carrying its CII XML (Factur-X), which
    # the official XSD and the EN 16931 rules accept.
    assert data["e_invoice"] == "factur-x"
    pdf = (tmp_path / f"{invoice.doc_id}.pdf").read_bytes()
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml" and xml == cii_invoice(data)
    assert xsd_valid(xml) and rule_failures(xml) == []
    assert b"<ram:GrandTotalAmount>21.42</ram:GrandTotalAmount>" in xml
    document = PdfReader(io.BytesIO(pdf))
    metadata = document.xmp_metadata
    assert metadata is not None
    xmp = metadata.stream.get_data()
    # PDF/A-3 (as an element or, as WeasyPrint writes it, an attribute), and the Factur-X profile
    assert re.search(rb'pdfaid:part(>3<|="3")', xmp) and b"<fx:ConformanceLevel>EN 16931<" in xmp
    assert b"<pdfaSchema:prefix>fx</pdfaSchema:prefix>" in xmp  # its properties declared, as PDF/A asks
    (relation,) = [spec.get_object() for spec in document.trailer["/Root"]["/AF"]][:1]
    assert relation["/AFRelationship"] == "/Data" and relation["/F"] == "factur-x.xml"
    assert "/OutputIntents" in document.trailer["/Root"]  # the colour profile PDF/A requires


def test_a_prepay_account_under_netto_opens_its_period_only_with_the_vat_covered(store):
    """The funds check debits what the charge will: Gamma Shop's phone, 450.00 + 22 % = 549.00,
    does not open on 500.00 of credit, the customer is told the 49.00 missing, and pays it."""
    world = World(store).build(
        reseller_onbill={
            "currency": "RUB",
            "timezone": "Europe/Moscow",
            "default_service_plan": "plan_phones",
            "vat_disposition": "netto",
            "vat_rate": 22,
        },
        plan={**PHONES, "plan": {"devices": {"sip_device": {"name": "Desk phone", "rate": 450}}}},
    )
    customer = world.customer(
        "Gamma Shop",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits={"pvt_allow_postpay": True, "pvt_max_postpay_amount": 5_000_000},
        devices=1,
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    events = crawl_account_day(ports, customer, date(2026, 11, 1))
    assert "period_pending" in [e.name for e in events]
    assert store.get(account_db(customer), "kazbill_standing")["amount_to_restore"] == 490_000
    paid = apply_payment(ports, customer, amount=490_000, reason="wire_transfer", external_id="the-vat")
    assert "period_opened" in [e.name for e in paid]
    assert kazbill_entries(store, customer, [(2026, 11)]) == {
        "202610-kazbill-wire_transfer-the-vat": ("credit", 490_000),
        "202610-kazbill-mrc-20261101-devices-sip_device-q1": ("debit", 5_490_000),  # 450.00 + 99.00 VAT
    }
