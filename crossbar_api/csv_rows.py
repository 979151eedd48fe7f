"""The CSV exports' columns: ledger entries (transactions, a source's ledgers, per-minute calls)
and documents, one row each, amounts in currency units, moments in ISO 8601 UTC."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.domain.ledger import entry_reason
from bookkeeper.domain.money import to_major

ENTRY_HEADER = (
    "id",
    "created",
    "type",
    "amount",
    "reason",
    "description",
    "period_start",
    "period_end",
    "quantity",
    "unit",
    "number",
    "direction",
    "billed_seconds",
    "rate_prefix",
    "rate_name",
)
DOCUMENT_HEADER = ("id", "document_type", "number", "period_start", "issued", "total", "currency", "state", "voided")


def iso(gregorian: Any) -> str | None:
    if isinstance(gregorian, bool) or not isinstance(gregorian, int):
        return None
    return datetime.fromtimestamp(from_gregorian_seconds(gregorian), UTC).isoformat(timespec="seconds")


def _fields(value: Any) -> dict[str, Any]:
    """An entry's part as a mapping: another writer's entry may hold anything in its place."""
    return value if isinstance(value, dict) else {}


def entry_rows(entries: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    for entry in entries:
        period, usage = _fields(entry.get("period")), _fields(entry.get("usage"))
        kazbill = _fields(_fields(entry.get("metadata")).get("kazbill"))
        call, rate = _fields(kazbill.get("call")), _fields(kazbill.get("rate"))
        yield [
            entry.get("_id"),
            iso(entry.get("pvt_created")),
            entry.get("pvt_ledger_type"),
            to_major(entry.get("amount", 0)) if isinstance(entry.get("amount"), int) else None,
            entry_reason(entry),
            entry.get("description", ""),
            iso(period.get("start")),
            iso(period.get("end")),
            usage.get("quantity"),
            usage.get("unit"),
            call.get("number"),
            call.get("direction"),
            call.get("billed_seconds"),
            rate.get("prefix"),
            rate.get("name"),
        ]


def document_rows(documents: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    for doc in documents:
        yield [
            doc.get("id"),
            doc.get("document_type"),
            doc.get("number"),
            doc.get("period_start"),
            iso(doc.get("issued")) if isinstance(doc.get("issued"), int) else doc.get("issued"),
            doc.get("total"),
            doc.get("currency"),
            doc.get("state"),
            doc.get("voided"),
        ]
