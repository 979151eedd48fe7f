"""Failures kept for the operator: a poison message, a command the bookkeeper refused.

The record's id is a hash of where the input came from and what it was, so the same bad
message delivered twice is recorded once, never dropped and never retried forever.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from bookkeeper.ports import DocumentStore

FAILURES_DB = "kazbill_failures"


def failure_id(source: str, payload: Any) -> str:
    digest = hashlib.sha256(json.dumps([source, payload], sort_keys=True, default=str).encode()).hexdigest()
    return f"failure-{source}-{digest[:32]}"


def record_failure(store: DocumentStore, *, source: str, reason_code: str, reason: str, payload: Any,
                   account_id: str | None, now_gregorian: int, field: str | None = None) -> str:
    doc_id = failure_id(source, payload)
    doc: Mapping[str, Any] = {
        "_id": doc_id, "pvt_type": "failure", "source": source, "reason_code": reason_code,
        "reason": reason, "field": field, "account_id": account_id,
        "payload": json.loads(json.dumps(payload, default=str)), "pvt_created": now_gregorian,
    }
    store.ensure_database(FAILURES_DB)
    store.bulk_put(FAILURES_DB, [doc])  # a conflict is the same failure, recorded before
    return doc_id
