"""Messages that travel between the bridges and the actors.

Frozen dataclasses with names unique across the whole system, so that a `receiveMsg_<Type>`
handler can never pick up a namesake from another package. Failures travel as codes and text,
never as exception objects: those do not always pickle across Thespian's process boundary and
would drag tracebacks into messages that may be stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DocAction = Literal["created", "edited", "deleted"]
ChangeSource = Literal["amqp", "couchdb"]
CallLeg = Literal["a", "b"]

# A rejected payload is kept for inspection, not replayed verbatim: 64 KiB shows what was wrong
# without letting one oversized message bloat the store.
PAYLOAD_TEXT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class DocumentChanged:
    """A Kazoo or Kazbill document changed. The body is never carried: fetch it by id."""

    account_id: str
    database: str  # unencoded, as CouchDB stores it
    doc_type: str  # the document's pvt_type
    doc_id: str
    action: DocAction
    rev: str | None
    soft_deleted: bool
    source: ChangeSource
    received_gregorian: int


@dataclass(frozen=True)
class CallEnded:
    """One channel of a call hung up (Kazoo's CHANNEL_DESTROY). Zero billing seconds is still
    a call: the rater decides what, if anything, it costs."""

    account_id: str
    call_id: str
    leg: CallLeg | None
    billing_seconds: int
    duration_seconds: int | None
    direction: str | None
    caller: str | None
    callee: str | None
    reseller_id: str | None
    timestamp_gregorian: int | None  # when the switch reported it, if it said
    hangup_cause: str | None
    received_gregorian: int = 0  # when Kazbill received it; the fallback for the billing month


@dataclass(frozen=True)
class BookkeeperSyncRequested:
    """Kazoo asked the bookkeeper named "kazbill" to bring an account's subscription up to date
    (kapi_bookkeepers update_req). The reply goes to `server_id` with the same `msg_id`."""

    account_id: str
    bookkeeper_id: str
    bookkeeper_type: str
    msg_id: str
    server_id: str
    dry_run: bool


@dataclass(frozen=True)
class RejectedMessage:
    """A payload that can never be processed, kept so that a person can look at it.

    `reason_code` is stable and machine-readable (e.g. "malformed_json", "missing_field");
    `field` names the offending field ("body" or "routing_key" when it is not one field);
    `reason` is for people."""

    source: str
    reason_code: str
    field: str
    reason: str
    routing_key: str
    payload_text: str

    @classmethod
    def of(
        cls, source: str, reason_code: str, field: str, reason: str, routing_key: str, payload: bytes | str
    ) -> RejectedMessage:
        raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
        # Cutting bytes may split a UTF-8 sequence; "replace" turns the stump into U+FFFD.
        text = raw[:PAYLOAD_TEXT_LIMIT].decode("utf-8", "replace")
        return cls(source, reason_code, field, reason, routing_key, text)
