"""Every call to a payment hook is kept for the operator, forged or genuine: what came, what it
was judged to be, and what was posted.

One record per distinct body (its SHA-256 names it), so a gateway's retries and an attacker's
replays land on the same record and are counted there, with the outcome of each delivery.

Anyone can send a hook anything, so only a delivery the gateway's own authentication vouched for
(PayPal's VERIFIED, a matching signature) is kept at length: its fields and the first 8 KiB of its
body. Of any other delivery the record keeps the first KiB of the body and no fields, and only
so many such deliveries a minute from one source address are written at all (`RefusalBudget`);
past that the gateway still gets its answer, and the store does not grow.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from bookkeeper.ports import Conflict, DocumentStore, NotFound

log = logging.getLogger("kazbill.hooks")
HOOKS_DB = "kazbill_hooks"
MAX_DELIVERIES_KEPT = 50
MAX_RAW_KEPT = 8_192  # of a delivery the gateway vouched for
MAX_UNVOUCHED_RAW_KEPT = 1_024  # enough to tell what it was
MAX_MESSAGE_KEPT = 500
MAX_NAME_KEPT = 100  # a field's name, a reseller id from the URL, a source address: all from the sender
UNVOUCHED_PER_SOURCE_PER_MINUTE = 20
MAX_SOURCES_PER_MINUTE = 10_000  # beyond this many addresses in a minute, none more is recorded
WRITE_TRIES = 25


class RefusalBudget:
    """How many deliveries nobody vouched for each source address may still have recorded this
    minute. It lives in the process (a gunicorn worker each), so the cap is per worker: still a
    bound on the growth, without a write to count the writes saved."""

    def __init__(
        self, per_source_per_minute: int = UNVOUCHED_PER_SOURCE_PER_MINUTE, max_sources: int = MAX_SOURCES_PER_MINUTE
    ):
        self.per_source_per_minute, self.max_sources = per_source_per_minute, max_sources
        self._minute: int | None = None
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, source: str, minute: int) -> bool:
        """True if one more unvouched delivery from `source` may be recorded in this minute."""
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            count = self._counts.get(source)
            if count is None and len(self._counts) >= self.max_sources:
                return False
            if (count or 0) >= self.per_source_per_minute:
                if count == self.per_source_per_minute:  # said once a minute, or the log grows instead
                    log.warning("hooks: no more unvouched deliveries from %s are recorded this minute", source[:64])
                    self._counts[source] = count + 1
                return False
            self._counts[source] = (count or 0) + 1
            return True


def attempt_id(gateway: str, raw_body: bytes) -> str:
    return f"hook-{gateway}-{hashlib.sha256(raw_body).hexdigest()[:40]}"


def record_attempt(
    store: DocumentStore,
    *,
    gateway: str,
    route: str,
    raw_body: bytes,
    outcome: str,
    message: str,
    now_gregorian: int,
    reseller_id: str | None = None,
    field: str | None = None,
    account_id: str | None = None,
    external_id: str | None = None,
    fields: Mapping[str, str] | None = None,
    vouched: bool = False,
    source: str | None = None,
    budget: RefusalBudget | None = None,
) -> str | None:
    """Add this delivery to the body's record (creating it the first time); None when the
    source's budget of unvouched deliveries is spent and nothing was written. Concurrent
    deliveries of one body race on the record's revision; each retries until its delivery is in.
    `source` None: handed in-process, not from the network, and not budgeted."""
    if not vouched and source is not None and budget is not None and not budget.spend(source, now_gregorian // 60):
        return None
    doc_id = attempt_id(gateway, raw_body)
    delivery = {
        "at": now_gregorian,
        "outcome": outcome,
        "message": _storable(message[:MAX_MESSAGE_KEPT]),
        "field": _name(field),
        "source": _name(source),
    }
    store.ensure_database(HOOKS_DB)
    for _ in range(WRITE_TRIES):
        try:
            doc = store.get(HOOKS_DB, doc_id)
        except NotFound:
            doc = {
                "_id": doc_id,
                "pvt_type": "hook_attempt",
                "gateway": gateway,
                "route": route,
                "reseller_id": _name(reseller_id),
                "raw": "",
                "fields": {},
                "first_seen": now_gregorian,
                "deliveries": [],
                "count": 0,
            }
        _keep_body(doc, raw_body, vouched, fields)
        _describe(doc, outcome, message, _name(field), account_id, external_id, now_gregorian)
        doc["deliveries"] = [*doc["deliveries"], delivery][-MAX_DELIVERIES_KEPT:]
        doc["count"] += 1
        try:
            store.put(HOOKS_DB, doc)
            return doc_id
        except Conflict:
            time.sleep(random.uniform(0.001, 0.02))  # another delivery of the same body wrote first
    raise Conflict(HOOKS_DB, doc_id)  # WRITE_TRIES concurrent deliveries in a row: this one is asked again


def _keep_body(doc: dict[str, Any], raw_body: bytes, vouched: bool, fields: Mapping[str, str] | None) -> None:
    # A body first seen unvouched (PayPal unreachable, say) is kept at length once a delivery of it is vouched for.
    kept = _storable(raw_body[: MAX_RAW_KEPT if vouched else MAX_UNVOUCHED_RAW_KEPT].decode("latin-1"))
    if len(kept) > len(doc.get("raw") or ""):
        doc["raw"] = kept
    if vouched and fields and not doc.get("fields"):
        doc["fields"] = {_storable(name): _storable(value) for name, value in fields.items()}


def _describe(
    doc: dict[str, Any],
    outcome: str,
    message: str,
    field: str | None,
    account_id: str | None,
    external_id: str | None,
    now_gregorian: int,
) -> None:
    # The record's headline is what the money did: a later duplicate never hides the credit.
    if doc.get("outcome") not in ("credited", "debited") or outcome in ("credited", "debited"):
        doc.update(outcome=outcome, message=_storable(message[:MAX_MESSAGE_KEPT]), field=field)
    doc["last_seen"] = now_gregorian
    if account_id:
        doc["account_id"] = _name(account_id)
    if external_id:
        doc["external_id"] = _name(external_id)


def _name(text: str | None) -> str | None:
    return None if text is None else _storable(text[:MAX_NAME_KEPT])


def _storable(text: str) -> str:
    # The stores refuse NUL in strings, and a sender may put one anywhere: the record is a copy
    # for reading, so it shows U+FFFD there instead of failing to be written (a 503, resent forever).
    return text.replace("\x00", "\ufffd")
