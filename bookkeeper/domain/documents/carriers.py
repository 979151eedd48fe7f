"""A reseller's carriers: the legal entities that issue its documents.

Each carrier names its legal and bank details, the document types it issues (invoice, act...),
how it numbers them, and which calls it carries (patterns over the called and the calling
number); exactly one is the main carrier, which issues everything that is not a call and every
call no other carrier claims. They live in the reseller's onbill document under `carriers`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bookkeeper.domain.call_totals import CallCarrier
from bookkeeper.domain.documents.cii_invoice import FACTUR_X
from bookkeeper.domain.documents.legal_details import EU_VAT_FORMATS
from bookkeeper.domain.documents.vat import PER_LINE, PER_RATE
from bookkeeper.domain.errors import FieldError

DOCUMENT_TYPES = ("invoice", "act", "calls_report", "proforma", "aggregated_invoice", "transaction_invoice")
DEFAULT_TYPES = ("invoice", "act")
MAX_PATTERN = 200


class CarrierError(FieldError):
    """A carrier its documents cannot be issued by."""


@dataclass(frozen=True)
class Numbering:
    """How one document type is numbered: per year or continuously, from `start`, shown through
    `format` ({number}, {year}, {carrier}); `follows` names the type whose number it shares (an
    act takes its invoice's number)."""

    per_year: bool = True
    start: int = 1
    format: str = "{number}"
    follows: str | None = None


@dataclass(frozen=True)
class Carrier:
    id: str
    name: str
    main: bool = False
    legal: Mapping[str, str] = field(default_factory=dict)  # address, tax ids (INN, KPP, VAT id), director...
    bank: Mapping[str, str] = field(default_factory=dict)  # bank name, account, BIC/SWIFT...
    document_types: tuple[str, ...] = DEFAULT_TYPES
    numbering: Mapping[str, Numbering] = field(default_factory=dict)
    called_patterns: tuple[str, ...] = ()
    caller_patterns: tuple[str, ...] = ()
    vat_rounding: str = PER_LINE  # where VAT is rounded: per_line (Russia) or per_rate (EU), see vat
    e_invoice: str | None = None  # "factur-x": its invoices carry EN 16931 CII XML (cii_invoice)

    def numbering_of(self, document_type: str) -> Numbering:
        if document_type == "calls_report" and document_type not in self.numbering:
            return Numbering(follows="invoice")  # the calls report details its invoice: the same number
        return self.numbering.get(document_type, Numbering())

    def as_call_carrier(self) -> CallCarrier:
        return CallCarrier(self.id, self.called_patterns, self.caller_patterns, self.main)


def parse_carriers(value: Sequence[Mapping[str, Any]]) -> tuple[Carrier, ...]:
    carriers = tuple(parse_carrier(carrier, f"carriers[{index}]") for index, carrier in enumerate(value))
    seen: set[str] = set()
    for index, carrier in enumerate(carriers):
        if carrier.id in seen:
            raise CarrierError(f"carriers[{index}].id", f"{carrier.id!r} is already another carrier's id")
        seen.add(carrier.id)
    if carriers and sum(1 for carrier in carriers if carrier.main) != 1:
        raise CarrierError("carriers", "exactly one carrier must be the main one (main: true)")
    return carriers


def parse_carrier(doc: Mapping[str, Any], path: str = "carrier") -> Carrier:
    if not isinstance(doc, Mapping):
        raise CarrierError(path, "must be an object")
    carrier_id, name = doc.get("id"), doc.get("name")
    if not isinstance(carrier_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", carrier_id):
        raise CarrierError(f"{path}.id", "must be 1-64 letters, digits, '-' or '_'")
    if not isinstance(name, str) or not name.strip():
        raise CarrierError(f"{path}.name", "must be a non-empty string")
    types = tuple(doc.get("document_types") or DEFAULT_TYPES)
    unknown = [kind for kind in types if kind not in DOCUMENT_TYPES]
    if unknown:
        raise CarrierError(f"{path}.document_types", f"unknown {unknown}; expected some of {', '.join(DOCUMENT_TYPES)}")
    numbering = {
        kind: _numbering(rule, f"{path}.numbering.{kind}") for kind, rule in (doc.get("numbering") or {}).items()
    }
    for kind, rule in numbering.items():
        if rule.follows is not None and (rule.follows == kind or rule.follows not in types):
            raise CarrierError(f"{path}.numbering.{kind}.follows", "must name another document type the carrier issues")
    legal = _texts(doc.get("legal"), f"{path}.legal")
    return Carrier(
        carrier_id,
        name.strip(),
        doc.get("main") is True,
        legal,
        _texts(doc.get("bank"), f"{path}.bank"),
        types,
        numbering,
        _patterns(doc.get("called_patterns"), f"{path}.called_patterns"),
        _patterns(doc.get("caller_patterns"), f"{path}.caller_patterns"),
        _vat_rounding(doc.get("vat_rounding"), legal, f"{path}.vat_rounding"),
        _e_invoice(doc.get("e_invoice"), legal, f"{path}.e_invoice"),
    )


def _e_invoice(value: Any, legal: Mapping[str, str], path: str) -> str | None:
    """The carrier's own choice ("factur-x" or "none"), else its jurisdiction's: a carrier in an
    EU member state issues Factur-X (Germany requires e-invoices between businesses from 2027)."""
    if value is None:
        country = _country(legal)
        return FACTUR_X if country in EU_VAT_FORMATS or (country == "GR") else None
    if value not in (FACTUR_X, "none"):
        raise CarrierError(path, f"must be {FACTUR_X} or none")
    return FACTUR_X if value == FACTUR_X else None


def _country(legal: Mapping[str, str]) -> str:
    return legal.get("country", "").strip().upper()


def _vat_rounding(value: Any, legal: Mapping[str, str], path: str) -> str:
    """The carrier's own rule, else its jurisdiction's practice: a Russian carrier (an INN, or
    country RU) rounds VAT per line as a счёт-фактура does; any other per rate (EN 16931)."""
    if value is None:
        russian = "inn" in legal or _country(legal) in ("RU", "RUS")
        return PER_LINE if russian else PER_RATE
    if value not in (PER_LINE, PER_RATE):
        raise CarrierError(path, f"must be {PER_LINE} or {PER_RATE}")
    return str(value)


def _numbering(rule: Any, path: str) -> Numbering:
    if not isinstance(rule, Mapping):
        raise CarrierError(path, "must be an object")
    start = rule.get("start", 1)
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= 10**9:
        raise CarrierError(f"{path}.start", "must be a whole number from 1")
    shown = rule.get("format", "{number}")
    if not isinstance(shown, str) or "{number}" not in shown or len(shown) > 64:
        raise CarrierError(f"{path}.format", "must contain {number} (and may use {year} and {carrier})")
    try:
        shown.format(number=1, year=2026, carrier="x")
    except (KeyError, IndexError, ValueError) as error:
        raise CarrierError(f"{path}.format", f"not a valid format: {error}") from None
    follows = rule.get("follows")
    if follows is not None and not isinstance(follows, str):
        raise CarrierError(f"{path}.follows", "must name a document type")
    return Numbering(rule.get("per_year", True) is not False, start, shown, follows)


def _texts(value: Any, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and len(v) <= 500 for v in value.values()):
        raise CarrierError(path, "must be an object of texts")
    return dict(value)


def _patterns(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise CarrierError(path, "must be a list of regular expressions")
    for index, pattern in enumerate(value):
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
            raise CarrierError(f"{path}[{index}]", f"must be a regular expression of 1-{MAX_PATTERN} characters")
        try:
            re.compile(pattern)
        except re.error as error:
            raise CarrierError(f"{path}[{index}]", f"not a regular expression: {error}") from None
    return tuple(value)
