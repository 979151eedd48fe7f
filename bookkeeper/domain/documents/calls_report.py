"""A calls report: every per-minute call of a period that a carrier carried, one row each, in
the order the calls ended, with the totals the invoice's per-minute line shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bookkeeper.domain.call_totals import PER_MINUTE_REASONS, CallCarrier, carrier_for
from bookkeeper.domain.documents.invoice_lines import belongs_to_period, minor_of
from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.domain.ledger import entry_reason
from bookkeeper.domain.periods import time_zone


def call_rows(
    entries: Iterable[Mapping[str, Any]],
    start: date,
    end: date,
    currency: str,
    tz: str,
    carriers: Sequence[CallCarrier],
    carrier_id: str | None,
) -> list[dict[str, Any]]:
    rows = []
    zone = time_zone(tz)
    for entry in entries:
        kazbill = (entry.get("metadata") or {}).get("kazbill") or {}
        if (
            entry_reason(entry) not in PER_MINUTE_REASONS
            or entry.get("pvt_deleted")
            or not belongs_to_period(kazbill, entry, start, end, tz)
        ):
            continue
        call = kazbill.get("call") or {}
        number, caller = str(call.get("number") or ""), str(call.get("caller") or "")
        owner = carrier_for(number, caller, carriers) if carriers else None
        if carriers and owner != carrier_id:
            continue
        ended = (entry.get("period") or {}).get("start") or entry.get("pvt_created") or 0
        moment = datetime.fromtimestamp(from_gregorian_seconds(int(ended)), zone)
        rows.append(
            {
                "ended": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "number": number,
                "caller": caller,
                "direction": str(call.get("direction") or "outbound"),
                "billed_seconds": int(call.get("billed_seconds") or 0),
                "amount": minor_of(int(entry.get("amount") or 0), currency),
                "call_id": (entry.get("source") or {}).get("id"),
            }
        )
    return sorted(rows, key=lambda row: (row["ended"], str(row["call_id"])))
