"""Rate decks as resellers keep them: CSV with a header row naming Kazoo's rate fields. Each row
becomes a Kazoo rate document; every row is checked with the same rules the rater uses, and an
import is all or nothing, so a deck is never half replaced by a file with a typo on line 80,000.

Required columns: prefix, rate_cost. Optional: rate_name, rate_surcharge, rate_increment,
rate_minimum, rate_nocharge_time, direction (inbound/outbound, several separated by ':'),
options and routes (separated by ':' or ';'), weight, carrier, description, iso_country_code,
internal_rate_cost, rate_suffix, rate_version. Amounts stay the decimal text they were written as.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bookkeeper.domain.rating import RateError, parse_rate

REQUIRED = ("prefix", "rate_cost")
OPTIONAL = (
    "rate_name",
    "rate_surcharge",
    "rate_increment",
    "rate_minimum",
    "rate_nocharge_time",
    "direction",
    "options",
    "routes",
    "weight",
    "carrier",
    "description",
    "iso_country_code",
    "internal_rate_cost",
    "rate_suffix",
    "rate_version",
)
INTEGERS = ("rate_increment", "rate_minimum", "rate_nocharge_time", "weight")
LISTS = ("direction", "options", "routes")
MAX_ERRORS = 50


@dataclass
class CsvReport:
    rows: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def rate_doc_id(deck: str, doc: dict[str, Any]) -> str:
    """One rate per prefix, direction and options in a deck: a second row for the same is a mistake."""
    direction = "+".join(sorted(doc.get("direction") or [])) or "any"
    options = "+".join(sorted(doc.get("options") or [])) or "none"
    return f"rate-{deck}-{doc['prefix']}-{direction}-{options}"


def rate_rows(lines: Iterable[str], deck: str, report: CsvReport) -> Iterator[dict[str, Any]]:
    """The rate documents of a CSV deck, row by row; problems go to `report` (line numbers as an
    editor shows them), and the caller writes nothing if there are any."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    for name in missing:
        report.errors.append((1, name, "required column missing"))
    for name in unknown:
        report.errors.append((1, name, f"unknown column; expected {', '.join(REQUIRED + OPTIONAL)}"))
    if missing or unknown:
        return
    seen: dict[str, int] = {}
    for row in reader:
        report.rows += 1
        line = reader.line_num
        doc = _doc(row, deck, line, report)
        if doc is None:
            continue
        doc_id = rate_doc_id(deck, doc)
        if doc_id in seen:
            _error(
                report,
                line,
                "prefix",
                f"a second rate for {doc['prefix']} (same direction and options) as line {seen[doc_id]}",
            )
            continue
        seen[doc_id] = line
        yield {"_id": doc_id, **doc}


def _doc(row: dict[str, Any], deck: str, line: int, report: CsvReport) -> dict[str, Any] | None:
    if None in row:
        _error(report, line, "row", "more fields than the header has")
        return None
    doc: dict[str, Any] = {"pvt_type": "rate", "ratedeck_id": deck}
    for name, raw in row.items():
        value = (raw or "").strip()
        if not value:
            continue
        if name in INTEGERS:
            if not value.isdigit():
                _error(report, line, name, f"{value!r} is not a whole number")
                return None
            doc[name] = int(value)
        elif name in LISTS:
            doc[name] = [part for part in value.replace(";", ":").split(":") if part]
        else:
            doc[name] = value
    try:
        parse_rate(doc)
    except RateError as error:
        _error(report, line, error.field, error.reason)
        return None
    doc["prefix"] = doc["prefix"].lstrip("+")
    return doc


def _error(report: CsvReport, line: int, column: str, reason: str) -> None:
    if len(report.errors) < MAX_ERRORS:
        report.errors.append((line, column, reason))
    elif len(report.errors) == MAX_ERRORS:
        report.errors.append((line, "…", "more errors follow; fix these first"))
