"""The default templates: golden HTML for a Russian brutto invoice and an English netto act (a
diff in review shows exactly what a template change does to a document), escaping of what
customers and resellers typed, and a renderer that fetches nothing but its own files.

Set KAZBILL_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import DictLoader

from bookkeeper.domain.documents.carriers import parse_carriers
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.line_arithmetic import Arithmetic
from bookkeeper.domain.documents.vat import VatPolicy
from documents.html import ASSETS, RenderRefused, html_of, template_environment
from documents.pdf import fetch_asset
from documents.render import WeasyRenderer
from testkit.support.local_http import LocalHttpServer, QuietHandler

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CARRIER = parse_carriers(
    [
        {
            "id": "volna",
            "name": "ООО «Волна Телеком»",
            "main": True,
            "legal": {"address": "125009, Москва, ул. Тверская, д. 1", "inn": "ИНН 7701234567"},
            "bank": {"bank": "ПАО Сбербанк", "account": "р/с 40702810938000000001"},
        }
    ]
)[0]
LINES = [
    # 2 × 500.00 − 50.00 (the plan's discount) = 950.00
    InvoiceLine(
        "monthly",
        "volna",
        "Desk phone × 2",
        2,
        50_000,
        95_000,
        arithmetic=Arithmetic(2, 5_000_000, less=500_000),
        name="Настольный телефон",
        names={"en": "Desk phone", "de": "Tischtelefon"},  # the plan's names per language
    ),
    # 2 added (1 → 3) × 1,500.00 × 20/30 = 2,000.00
    InvoiceLine(
        "prorated",
        "volna",
        "SIP trunk: 1 → 3, 20/30 days",
        3,
        150_000,
        200_000,
        (("2026-11-11", "2026-11-30"),),
        "20/30",
        arithmetic=Arithmetic(2, 15_000_000, (20, 30)),
        name="SIP-транк",
        from_quantity=1,
    ),
    # 4 days × 37.5075 (the day's price of 3 softphones) = 150.03
    InvoiceLine(
        "daily",
        "volna",
        "Softphone × 3",
        3,
        50_000,
        15_003,
        (("2026-11-01", "2026-11-03"), ("2026-11-07", "2026-11-07")),
        arithmetic=Arithmetic(4, 375_075),
        name="Софтфон",
    ),
    InvoiceLine("one_time", "volna", "Number activation", 1, None, 30_000, arithmetic=Arithmetic(1, 3_000_000)),
    InvoiceLine(
        "calls",
        "volna",
        "per-minute calls",
        42,
        None,
        12_345,
        billed_seconds=5_430,
        arithmetic=Arithmetic(1, 1_234_500),
    ),
    # written before lines knew their arithmetic: shown as it was
    InvoiceLine("one_time", "volna", "Port-in fee", 1, None, 10_000),
]


def data(kind: str, language: str, vat: VatPolicy, customer_name: str = "Альфа Такси") -> dict:
    return document_data(
        document_type=kind,
        carrier=CARRIER,
        customer={"id": "a" * 32, "name": customer_name, "legal": {"inn": "ИНН 7709876543"}},
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        issued=date(2026, 11, 30),
        number="В-2026-100",
        sequence_number=100,
        currency="RUB",
        language=language,
        vat=vat,
        lines=LINES,
    )


@pytest.mark.parametrize(
    "name, kind, language, vat",
    [
        ("invoice-ru-brutto.html", "invoice", "ru", VatPolicy("brutto", Decimal(20))),
        ("act-en-netto.html", "act", "en", VatPolicy("netto", Decimal(20))),
        ("invoice-en-no-vat.html", "invoice", "en", VatPolicy("none", Decimal(0))),
        ("invoice-de-netto.html", "invoice", "de", VatPolicy("netto", Decimal(19))),
    ],
)
def test_the_default_templates_match_their_golden_html(name, kind, language, vat):
    html = html_of(data(kind, language, vat))
    golden = GOLDEN / name
    if os.environ.get("KAZBILL_UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


def test_what_people_typed_is_escaped_in_the_html_and_shown_as_typed_in_the_pdf(tmp_path):
    hostile = '<script>alert(1)</script><img src="http://127.0.0.1:9/x.png">'
    html = html_of(data("invoice", "en", VatPolicy("none", Decimal(0)), customer_name=hostile))
    assert "<script>" not in html and "&lt;script&gt;" in html
    renderer = WeasyRenderer()
    (tmp_path / "d.pdf").write_bytes(renderer.pdf(html))
    text = subprocess.run(["pdftotext", str(tmp_path / "d.pdf"), "-"], capture_output=True, text=True).stdout
    assert "<script>alert(1)</script>" in text


class Recorder(LocalHttpServer):
    requests: list[str] = []

    def handler(self):
        recorder = self

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                recorder.requests.append(self.path)
                self.send_response(200)
                self.end_headers()

        return Handler


def test_a_template_that_points_outside_its_files_fetches_nothing(tmp_path):
    with Recorder() as server:
        server.requests = []
        environment = template_environment(
            DictLoader(
                {
                    "invoice.html": (
                        f'<html><body><img src="http://127.0.0.1:{server.port}/track.png">'
                        f'<link rel="stylesheet" href="http://127.0.0.1:{server.port}/x.css">'
                        '<img src="file:///etc/passwd"><p>{{ d.number }}</p></body></html>'
                    )
                }
            )
        )
        renderer = WeasyRenderer(environment)
        pdf = renderer.pdf(renderer.html(data("invoice", "en", VatPolicy("none", Decimal(0)))))
        assert pdf[:5] == b"%PDF-" and server.requests == []
    for url in (f"http://127.0.0.1:{server.port}/x", "file:///etc/passwd", (ASSETS / ".." / "render.py").as_uri()):
        with pytest.raises(RenderRefused):
            fetch_asset(url)
    assert fetch_asset((ASSETS / "style.css").as_uri())  # its own files: yes


def test_a_template_that_names_what_the_data_lacks_is_refused_not_printed_empty():
    renderer = WeasyRenderer(template_environment(DictLoader({"invoice.html": "{{ d.no_such_field }}"})))
    with pytest.raises(RenderRefused) as refused:
        renderer.html(data("invoice", "en", VatPolicy("none", Decimal(0))))
    assert refused.value.field == "template"


def test_a_document_stored_by_an_earlier_version_still_renders_with_the_current_templates():
    """Stored data is never rewritten: keys added to lines later (the category code, the
    arithmetic, the item's name, the level before, the carrier's VAT rounding) must not make
    older documents fail to render again."""
    older = data("invoice", "ru", VatPolicy("brutto", Decimal(20)))
    del older["vat"]["rounding"]
    for line in older["lines"]:
        for key in ("code", "arithmetic", "name", "from_quantity"):
            del line[key]
    html = html_of(older)
    assert "Desk phone × 2" in html and "SIP trunk: 1 → 3, 20/30 days" in html


@pytest.mark.parametrize(
    "kind", ["invoice", "act", "aggregated_invoice", "calls_report", "proforma", "transaction_invoice"]
)
def test_each_default_template_renders_to_a_png_kept_as_an_artifact(kind, tmp_path):
    document = data(kind, "ru", VatPolicy("brutto", Decimal(20)))
    document["calls"] = [
        {
            "ended": "2026-11-10 11:00:00",
            "number": "74951234567",
            "caller": "74950000001",
            "direction": "outbound",
            "billed_seconds": 120,
            "amount": 240,
            "call_id": "c1",
        }
    ]
    renderer = WeasyRenderer()
    pdf = tmp_path / f"{kind}.pdf"
    pdf.write_bytes(renderer.pdf(renderer.html(document)))
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-singlefile", str(pdf), str(ARTIFACTS / f"template-{kind}-ru")], check=True
    )
    assert (ARTIFACTS / f"template-{kind}-ru.png").stat().st_size > 5_000
