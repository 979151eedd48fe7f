"""Documents to HTML: Kazbill's templates (Jinja2) filled with a document's data.

User data is escaped by Jinja2's autoescaping; a template that names something the data does
not have fails loudly (StrictUndefined) instead of printing an empty field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from documents import formatting
from documents.labels import LABELS

ASSETS = (Path(__file__).parent / "templates").resolve()
TYPES_WITH_TEMPLATES = (
    "invoice",
    "act",
    "proforma",
    "calls_report",
    "aggregated_invoice",
    "transaction_invoice",
    "credit_note",
)
# A reseller may bring its own template for these (checked with sample data of an invoice's
# shape; a credit note's data has more, so its template stays Kazbill's for now).
CUSTOMIZABLE_TYPES = TYPES_WITH_TEMPLATES[:-1]


class RenderRefused(ValueError):
    """A document that must not be rendered as it is: `field` says what is wrong."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def template_environment(loader: Any = None) -> Environment:
    return Environment(
        loader=loader or FileSystemLoader(str(ASSETS)),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )


DEFAULT_TEMPLATES = template_environment()


def template_context(data: Mapping[str, Any]) -> dict[str, Any]:
    language, digits = data["language"], data["minor_digits"]
    labels = LABELS.get(language, LABELS["en"])
    return {
        "d": data,
        "t": labels,
        "title": labels.get(data["document_type"], data["document_type"]),
        "vat_charged": data["vat"]["disposition"] != "none" and data["vat"]["rate"] not in ("0", "0.00"),
        "money": lambda minor: formatting.amount(minor, digits, language),
        "price": lambda units: formatting.unit_price(units, digits, language),
        "day": lambda iso: formatting.day(iso, language),
        "ranges": lambda ranges: formatting.day_ranges(ranges, language),
        "count": lambda number, forms: formatting.counted(number, labels[forms], language),
        "country": lambda code: formatting.country(code, language),
    }


def html_of(data: Mapping[str, Any], environment: Environment = DEFAULT_TEMPLATES) -> str:
    kind = data["document_type"]
    if kind not in TYPES_WITH_TEMPLATES:
        raise RenderRefused("document_type", f"no template for {kind!r} ({', '.join(TYPES_WITH_TEMPLATES)})")
    return environment.get_template(f"{kind}.html").render(**template_context(data))
