"""Failures kept for the operator: a poison message, a command the bookkeeper refused.

The record's id is a hash of where the input came from and what it was, so the same bad
message delivered twice is recorded once, never dropped and never retried forever.

What failed is often what cannot be stored as it is (a value nested 1,200 levels deep, text
with lone surrogates, megabytes of it): the record keeps a bounded copy that any store, view
engine and json.dumps can take, so recording a poison input can never be what crashes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from bookkeeper.ports import DocumentStore

FAILURES_DB = "kazbill_failures"
# Bounds of the copy kept: deeper levels, longer text and further entries are left out, marked.
KEPT_DEPTH = 20  # the stores refuse what is nested deeper than 64 (adapters/document_rules.py)
KEPT_TEXT = 64 * 1024  # a rejected message's text is cut at 64 KiB already (actors.messages)
KEPT_ENTRIES = 1_000
CUT = "…(cut)"


def failure_id(source: str, payload: Any) -> str:
    try:
        identity = json.dumps([source, payload], sort_keys=True, default=str)
    except (RecursionError, ValueError, TypeError):  # what cannot be written out is told by its kept copy
        identity = json.dumps([source, storable(payload), "kept"], sort_keys=True)
    digest = hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()
    return f"failure-{source}-{digest[:32]}"


def record_failure(
    store: DocumentStore,
    *,
    source: str,
    reason_code: str,
    reason: str,
    payload: Any,
    account_id: str | None,
    now_gregorian: int,
    field: str | None = None,
) -> str:
    doc_id = failure_id(source, payload)
    doc: Mapping[str, Any] = {
        "_id": doc_id,
        "pvt_type": "failure",
        "source": source,
        "reason_code": reason_code,
        "reason": storable(reason),
        "field": storable(field),
        "account_id": account_id,
        "payload": storable(payload),
        "pvt_created": now_gregorian,
    }
    store.ensure_database(FAILURES_DB)
    store.bulk_put(FAILURES_DB, [doc])  # a conflict is the same failure, recorded before
    return doc_id


def storable(value: Any, depth: int = 0) -> Any:
    """A JSON copy of `value` within the bounds above, its text valid Unicode; anything that is
    not JSON is kept as its str(), as json.dumps(default=str) would write it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):  # beyond some 100 digits Python will not even write it out (4,300)
        return (
            value if value.bit_length() <= 332 else f"<an integer of some {int(value.bit_length() * 0.30103)} digits>"
        )
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _text(value)
    if depth >= KEPT_DEPTH and isinstance(value, (dict, list, tuple)):
        return CUT
    if isinstance(value, dict):
        kept = {_text(str(key)): storable(item, depth + 1) for key, item in list(value.items())[:KEPT_ENTRIES]}
        if len(value) > KEPT_ENTRIES:
            kept[CUT] = len(value) - KEPT_ENTRIES
        return kept
    if isinstance(value, (list, tuple)):
        kept_items = [storable(item, depth + 1) for item in value[:KEPT_ENTRIES]]
        return kept_items + [CUT] if len(value) > KEPT_ENTRIES else kept_items
    try:
        return _text(str(value))
    except Exception:  # noqa: BLE001 - a str() that fails still leaves a record
        return f"<{type(value).__name__}>"


def _text(text: str) -> str:
    # A lone surrogate becomes "?"; NUL, which the stores refuse in a string, is kept as its escape.
    safe = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\u0000")
    return safe if len(safe) <= KEPT_TEXT else safe[:KEPT_TEXT] + CUT
