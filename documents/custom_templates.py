"""A reseller's own template for a carrier's document type: checked before it is stored, and
rendered in Jinja2's sandbox.

A template is refused, with the reason, when it
- is not UTF-8, is larger than 256 KiB, or does not parse (the line is named);
- contains a script, or points at anything outside the document (a URL with a scheme or a
  protocol-relative one, in markup or CSS, `@import`): documents are rendered offline and must not
  call home (the renderer's URL fetcher would refuse such a fetch anyway);
- fails, or takes longer than TRIAL_SECONDS or more memory than TRIAL_MEMORY_MIB, or produces
  more than MAX_OUTPUT characters, when it is rendered with sample data and laid out by
  WeasyPrint in a bounded child process (documents.bounded).
A template can pass this trial and still loop on real data, so the document workers render a
reseller's template within bounds too (WeasyRenderer.document_pdf).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from documents.bounded import RenderBounds, run_bounded
from documents.html import RenderRefused, template_context
from documents.pdf import PdfRenderer

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_OUTPUT = 2_000_000
TRIAL_SECONDS = 10.0
TRIAL_MEMORY_MIB = 512
_FORBIDDEN = [
    (re.compile(r"<\s*script", re.I), "a template may not contain scripts"),
    (re.compile(r"<\s*(iframe|object|embed|base|meta\s+http-equiv)", re.I), "a template may not embed other pages"),
    (re.compile(r"@import", re.I), "a template may not import stylesheets"),
    (
        re.compile(r"""(?:src|href|action|data|poster)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)""", re.I),
        "a template may not point at anything outside the document (no URL with a scheme)",
    ),
    (
        re.compile(r"""url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)""", re.I),
        "a template's CSS may not point at anything outside the document",
    ),
    (re.compile(r"\bon[a-z]+\s*=", re.I), "a template may not carry event handlers"),
]


def sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=select_autoescape(default=True, default_for_string=True), undefined=StrictUndefined
    )


def check_template(raw: bytes, sample: Mapping[str, Any] | None = None) -> str:
    """The template's text if it may be used; RenderRefused(field "template") otherwise."""
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise RenderRefused("template", f"larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RenderRefused("template", "not UTF-8 text") from None
    for pattern, reason in _FORBIDDEN:
        found = pattern.search(source)
        if found:
            line = source.count("\n", 0, found.start()) + 1
            raise RenderRefused("template", f"line {line}: {reason}")
    try:
        sandbox().parse(source)
    except TemplateSyntaxError as error:
        raise RenderRefused("template", f"line {error.lineno}: {error.message}") from None
    _trial(source, dict(sample or sample_data()))
    return source


def render_custom(source: str, data: Mapping[str, Any]) -> str:
    try:
        html = sandbox().from_string(source).render(**template_context(data))
    except (TemplateError, KeyError, TypeError, ValueError, OverflowError) as error:
        raise RenderRefused("template", f"{type(error).__name__}: {error}") from None
    if len(html) > MAX_OUTPUT:
        raise RenderRefused("template", f"it produced more than {MAX_OUTPUT:,} characters")
    return html


def _trial(source: str, data: dict) -> None:
    bounds = RenderBounds(TRIAL_SECONDS, TRIAL_MEMORY_MIB)
    try:
        run_bounded(lambda: PdfRenderer().pdf(render_custom(source, data)), bounds, "rendering sample data")
    except RenderRefused as refused:
        reason = (
            refused.reason
            if refused.reason.startswith("rendering sample data")
            else f"rendering sample data failed: {refused.reason}"
        )
        raise RenderRefused("template", reason) from None


def sample_data() -> dict[str, Any]:
    from bookkeeper.domain.documents.carriers import Carrier
    from bookkeeper.domain.documents.document_data import document_data
    from bookkeeper.domain.documents.invoice_lines import InvoiceLine
    from bookkeeper.domain.documents.vat import VatPolicy

    lines = [
        InvoiceLine("monthly", "c", "Sample service", 2, 50_000, 100_000),
        InvoiceLine("daily", "c", "Sample daily fee", 1, 1_667, 5_001, (("2026-11-01", "2026-11-03"),)),
        InvoiceLine("calls", "c", "per-minute calls", 3, None, 1_200, billed_seconds=180),
    ]
    return document_data(
        document_type="invoice",
        carrier=Carrier("c", "Sample carrier", main=True),
        customer={"id": "0" * 32, "name": "Sample customer"},
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        issued=date(2026, 11, 30),
        number="1",
        sequence_number=1,
        currency="RUB",
        language="ru",
        vat=VatPolicy("netto", Decimal(20)),
        lines=lines,
    )
