"""The e-invoice part of bench/documents.py: a 1-page EU invoice (6 lines, netto VAT) rendered
as the document workers render it, plain and as Factur-X (PDF/A-3b, the CII XML built, checked
against the XSD and embedded), one renderer kept and in --workers processes."""

from __future__ import annotations

import multiprocessing
from datetime import date
from decimal import Decimal
from typing import Any

from bookkeeper.domain.documents.carriers import parse_carrier
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.line_arithmetic import Arithmetic
from bookkeeper.domain.documents.vat import VatPolicy

CARRIER = parse_carrier(
    {
        "id": "fjord",
        "name": "Fjord Telecom GmbH",
        "main": True,
        "legal": {"address": "Friedrichstraße 1, 10117 Berlin", "country": "DE", "vat_id": "DE123456789"},
        "bank": {"iban": "DE89370400440532013000"},
    }
)
BUYER = {
    "id": "f" * 32,
    "name": "Fjord Design",
    "legal": {"name": "Fjord Design GmbH", "address": "Torstraße 5, 10119 Berlin", "country": "DE"},
}


def eu_invoice(e_invoice: bool) -> dict[str, Any]:
    lines = [
        InvoiceLine(
            "daily",
            "fjord",
            f"Item {n}",
            3,
            600,
            1_800 + n,
            (("2026-11-01", "2026-11-30"),),
            arithmetic=Arithmetic(30, 6_000 + n),
            name=f"Item {n}",
        )
        for n in range(6)
    ]
    data = document_data(
        document_type="invoice",
        carrier=CARRIER,
        customer=BUYER,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        issued=date(2026, 11, 30),
        number="FT-1",
        sequence_number=1,
        currency="EUR",
        language="en",
        vat=VatPolicy("netto", Decimal(19)),
        lines=lines,
    )
    assert data.get("e_invoice") == "factur-x", data.get("e_invoice_skipped")
    if not e_invoice:
        del data["e_invoice"]
    return data


def _worker(args: tuple[bool, int]) -> int:
    from documents.render import WeasyRenderer

    e_invoice, count = args
    renderer, data = WeasyRenderer(), eu_invoice(e_invoice)
    for _ in range(count):
        renderer.document_pdf(data)
    return count


def e_invoices(documents: int, workers: int, rate) -> None:
    """`rate(label, count, action, figure, reference)`: bench.documents' timer and recorder."""
    from documents.render import WeasyRenderer

    renderer = WeasyRenderer()
    renderer.document_pdf(eu_invoice(True))  # warm: factur-x's schema, PDF/A's colour profile
    print("1-page EU invoice, as the document workers render it:")
    plain, factur_x = eu_invoice(False), eu_invoice(True)
    rate(
        "plain PDF",
        documents,
        lambda: [renderer.document_pdf(plain) for _ in range(documents)],
        "documents.e_invoice.plain_pdf",
    )
    rate(
        "Factur-X (PDF/A-3b, CII built, XSD checked)",
        documents,
        lambda: [renderer.document_pdf(factur_x) for _ in range(documents)],
        "documents.e_invoice.factur_x",
        "documents.e_invoice.plain_pdf",
    )
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_worker, [(True, 1)] * workers)
        share = max(1, documents // workers)
        rate(
            f"Factur-X, {workers} processes",
            share * workers,
            lambda: pool.map(_worker, [(True, share)] * workers),
            "documents.e_invoice.factur_x_processes",
            "documents.e_invoice.plain_pdf",
        )
