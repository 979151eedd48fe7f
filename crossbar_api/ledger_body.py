"""The body of PUT .../ledgers/credit and .../ledgers/debit, read at the edge: Kazoo's own
fields (cb_ledgers:put, applications/crossbar/src/modules/cb_ledgers.erl:212-264, checked
against its `ledgers` schema) and Kazbill's `reason`. Everything is checked before anything is
posted; a field that cannot be used is a 400 naming it.

What Kazoo keeps, Kazbill keeps in the ledger document: description, `source` {service, id},
`usage` {type, quantity, unit}, `period` {start, end} (Gregorian seconds; `start` defaults to
now, as cb_ledgers sets it; without a period the posting's own, which starts now, stands) and
`metadata`. Kazoo takes `account` from the URL, whatever the
body says (cb_ledgers.erl:222), and so does Kazbill. The kind of posting (wire transfer, manual
addition, balance correction) stays Kazbill's, in the entry's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bookkeeper.services.payments.postings import MANUAL_CREDITS, MANUAL_DEBITS
from crossbar_api.errors import invalid
from crossbar_api.fields import amount_units, document_numbers

FIELDS = ("amount", "description", "reason", "source", "usage", "period", "metadata", "account")
# Sources whose name other parts of the cluster read as something else: Kazoo's balance takes a
# "rollovers" row for the month's rollover (kz_ledgers:sum_sources_foldl, kz_ledgers.erl:145-152),
# and per-minute rows name calls that must not be charged again.
RESERVED_SOURCES = ("rollovers", "per-minute-voip", "per_minute_call", "sub_account_per_minute_call")
MAX_TEXT = 500
MAX_AMOUNT = Decimal(10) ** 11  # currency units: a hundred billion is no one's manual posting
MAX_NAME = 128


@dataclass(frozen=True)
class LedgerRequest:
    amount: int  # units
    reason: str
    description: str
    fields: Mapping[str, Any] = field(default_factory=dict)  # source, usage, period, metadata


def _text(value: Any, path: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise invalid(path, "type", f"must be {'non-empty ' if required else ''}text of at most {limit} characters")
    return value


def _whole(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**15:
        raise invalid(path, "type", "must be a whole number from 0")
    return value


def _object(data: Mapping[str, Any], name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    value = data[name]
    if not isinstance(value, dict):
        raise invalid(name, "type", "must be an object")
    for key in value:
        if key not in keys:
            raise invalid(f"{name}.{key}", "unknown", f"unknown field; expected {', '.join(keys)}")
    return value


def _amount(data: Mapping[str, Any]) -> int:
    return amount_units(data.get("amount"), "amount", maximum=MAX_AMOUNT)


def _source(data: Mapping[str, Any]) -> dict[str, str]:
    source = _object(data, "source", ("service", "id"))
    for key in ("service", "id"):  # both required by Kazoo's schema
        if key not in source:
            raise invalid(f"source.{key}", "required", "a source names its service and its id")
    service = _text(source["service"], "source.service", MAX_NAME)
    if service in RESERVED_SOURCES:
        raise invalid(
            "source.service", "reserved", f"{service!r} is written by the cluster itself; name another source"
        )
    return {"service": service, "id": _text(source["id"], "source.id", 200)}


def _usage(data: Mapping[str, Any]) -> dict[str, Any]:
    usage = _object(data, "usage", ("type", "quantity", "unit"))
    for key in ("type", "quantity", "unit"):  # all three required by Kazoo's schema
        if key not in usage:
            raise invalid(f"usage.{key}", "required", "usage gives its type, quantity and unit")
    return {
        "type": _text(usage["type"], "usage.type", MAX_NAME),
        "quantity": _whole(usage["quantity"], "usage.quantity"),
        "unit": _text(usage["unit"], "usage.unit", MAX_NAME),
    }


def _period(data: Mapping[str, Any], now_gregorian: int) -> dict[str, int]:
    period = _object(data, "period", ("start", "end"))
    shown: dict[str, int] = {key: _whole(period[key], f"period.{key}") for key in ("start", "end") if key in period}
    shown.setdefault("start", now_gregorian)  # cb_ledgers.erl:241-243
    if "end" in shown and shown["end"] < shown["start"]:
        raise invalid("period.end", "range", "must not be before period.start")
    return shown


def _metadata(data: Mapping[str, Any]) -> dict[str, Any]:
    metadata = data["metadata"]
    if not isinstance(metadata, dict):
        raise invalid("metadata", "type", "must be an object")
    if "kazbill" in metadata:
        raise invalid("metadata.kazbill", "reserved", "Kazbill keeps its own record there")
    return document_numbers(metadata, "metadata")


def parse_ledger_request(data: Mapping[str, Any], direction: str, now_gregorian: int) -> LedgerRequest:
    for key in data:
        if key not in FIELDS:
            raise invalid(key, "unknown", f"unknown field; expected {', '.join(FIELDS)}")
    amount = _amount(data)
    description = _text(data.get("description", ""), "description", MAX_TEXT, required=False)
    if "account" in data and not isinstance(data["account"], dict):
        raise invalid("account", "type", "must be an object (the account is the one in the URL)")
    fields: dict[str, Any] = {}
    if "source" in data:
        fields["source"] = _source(data)
    if "period" in data:
        fields["period"] = _period(data, now_gregorian)
    allowed = MANUAL_CREDITS if direction == "credit" else MANUAL_DEBITS
    # A source named after one of Kazbill's own kinds of posting is that kind.
    named = fields.get("source", {}).get("service")
    reason = data.get("reason", named if named in allowed else allowed[0])
    if reason not in allowed:
        raise invalid("reason", "enum", f"must be one of {', '.join(allowed)}")
    if "usage" in data:
        fields["usage"] = _usage(data)
    if "metadata" in data:
        fields["metadata"] = _metadata(data)
    return LedgerRequest(amount, reason, description, fields)
