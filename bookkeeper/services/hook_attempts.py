"""Every call to a payment hook is kept for the operator, forged or genuine: what came, what it
was judged to be, and what was posted.

One record per distinct body (its SHA-256 names it), so a gateway's retries and an attacker's
replays land on the same record and are counted there, with the outcome of each delivery.
"""
from __future__ import annotations

import hashlib
import random
import time
from typing import Any, Mapping

from bookkeeper.ports import Conflict, DocumentStore, NotFound

HOOKS_DB = "kazbill_hooks"
MAX_DELIVERIES_KEPT = 50
MAX_RAW_KEPT = 8_192
WRITE_TRIES = 25


def attempt_id(gateway: str, raw_body: bytes) -> str:
    return f"hook-{gateway}-{hashlib.sha256(raw_body).hexdigest()[:40]}"


def record_attempt(store: DocumentStore, *, gateway: str, route: str, raw_body: bytes, outcome: str,
                   message: str, now_gregorian: int, reseller_id: str | None = None, field: str | None = None,
                   account_id: str | None = None, external_id: str | None = None,
                   fields: Mapping[str, str] | None = None) -> str:
    """Add this delivery to the body's record (creating it the first time). Concurrent deliveries
    of one body race on the record's revision; each retries until its delivery is in."""
    doc_id = attempt_id(gateway, raw_body)
    delivery = {"at": now_gregorian, "outcome": outcome, "message": message[:500], "field": field}
    store.ensure_database(HOOKS_DB)
    for _ in range(WRITE_TRIES):
        try:
            doc = store.get(HOOKS_DB, doc_id)
        except NotFound:
            doc = {"_id": doc_id, "pvt_type": "hook_attempt", "gateway": gateway, "route": route,
                   "reseller_id": reseller_id, "raw": raw_body[:MAX_RAW_KEPT].decode("latin-1"),
                   "fields": dict(fields or {}), "first_seen": now_gregorian, "deliveries": [], "count": 0}
        _describe(doc, outcome, message, field, account_id, external_id, fields, now_gregorian)
        doc["deliveries"] = [*doc["deliveries"], delivery][-MAX_DELIVERIES_KEPT:]
        doc["count"] += 1
        try:
            store.put(HOOKS_DB, doc)
            return doc_id
        except Conflict:
            time.sleep(random.uniform(0.001, 0.02))  # another delivery of the same body wrote first
    raise Conflict(f"{HOOKS_DB}/{doc_id}: {WRITE_TRIES} concurrent deliveries in a row; giving up this one")


def _describe(doc: dict[str, Any], outcome: str, message: str, field: str | None, account_id: str | None,
              external_id: str | None, fields: Mapping[str, str] | None, now_gregorian: int) -> None:
    # The record's headline is what the money did: a later duplicate never hides the credit.
    if doc.get("outcome") not in ("credited", "debited") or outcome in ("credited", "debited"):
        doc.update(outcome=outcome, message=message[:500], field=field)
    doc["last_seen"] = now_gregorian
    if account_id:
        doc["account_id"] = account_id
    if external_id:
        doc["external_id"] = external_id
    if fields and not doc.get("fields"):
        doc["fields"] = dict(fields)
