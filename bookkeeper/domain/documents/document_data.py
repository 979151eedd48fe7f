"""A document's data: everything its PDF shows, as the JSON stored next to the PDF.

Amounts are integers in the currency's minor units (kopecks, cents): net, VAT and gross per line
(see vat) and their sums; the total is also spelled out. The data is complete on its own, so a
document can be rendered again, in any template, without reading the ledger again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from bookkeeper.domain.documents.carriers import Carrier
from bookkeeper.domain.documents.cii_invoice import FACTUR_X, INVOICE_TYPES, missing
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.vat import VatPolicy, taxed_lines, total
from bookkeeper.domain.documents.words import amount_in_words
from bookkeeper.domain.money import currency as currency_of

LANGUAGES = ("ru", "en", "de")


def document_id(month_prefix: str, document_type: str, carrier_id: str, subject: str) -> str:
    """Deterministic: a regeneration of the same document for the same period overwrites it."""
    return f"{month_prefix}-kazbill-doc-{document_type}-{carrier_id}-{subject}"


def document_data(
    *,
    document_type: str,
    carrier: Carrier,
    customer: Mapping[str, Any],
    period_start: date,
    period_end: date,
    issued: date,
    number: str,
    sequence_number: int,
    currency: str,
    language: str,
    vat: VatPolicy,
    lines: Sequence[InvoiceLine],
    category_codes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    places = currency_of(currency).minor_units
    shown_lines = []
    taxed = taxed_lines([line.amount_minor for line in lines], vat, carrier.vat_rounding)
    for line, amounts in zip(lines, taxed, strict=True):
        shown_lines.append(
            {
                **{k: v for k, v in asdict(line).items() if k not in ("carrier", "entry_ids", "names", "units")},
                "name": line.names.get(language) or line.name,  # the plan's word for it in the reader's language
                "days": [list(days) for days in line.days],
                "code": (category_codes or {}).get(line.category or ""),
                "net": amounts.net,
                "vat": amounts.vat,
                "gross": amounts.gross,
            }
        )
    totals = total(taxed)
    data = {
        "document_type": document_type,
        "number": number,
        "sequence_number": sequence_number,
        "issued": issued.isoformat(),
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "carrier": {"id": carrier.id, "name": carrier.name, "legal": dict(carrier.legal), "bank": dict(carrier.bank)},
        "customer": {
            "id": customer.get("id"),
            "name": customer.get("name"),
            "legal": dict(customer.get("legal") or {}),
        },
        "currency": currency,
        "minor_digits": places,
        "language": language if language in LANGUAGES else "en",
        "vat": {"disposition": vat.disposition, "rate": str(vat.rate), "rounding": carrier.vat_rounding},
        "lines": shown_lines,
        "totals": {"net": totals.net, "vat": totals.vat, "gross": totals.gross},
        "total_in_words": amount_in_words(
            abs(totals.gross), currency, language if language in LANGUAGES else "en", places
        ),
    }
    if carrier.e_invoice == FACTUR_X and document_type in INVOICE_TYPES:
        # An e-invoice only when the rules can be met; else a plain PDF, and the reason kept.
        reason = missing(data)
        data.update({"e_invoice": FACTUR_X} if reason is None else {"e_invoice_skipped": reason})
    return data
