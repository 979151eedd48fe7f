"""Kazoo's AMQP messages, parsed into Kazbill's messages (the replies are built in kazoo_replies).

Kazoo's header names ("Account-ID", "Billing-Seconds", ...) are translated here and nowhere else.
Pure: JSON in, frozen dataclasses out, and back. A parser returns a message for an actor,
None for something that is not Kazbill's business (ack and forget), or a RejectedMessage for a
payload that can never be processed (store it for a person, ack it). It never raises on what
arrives from the wire.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import unquote_plus

from actors.messages import (
    BookkeeperSyncRequested,
    CallEnded,
    DocumentChanged,
    RejectedMessage,
)
from bookkeeper.domain.calls import FinishedCall, call_from_leg
from bookkeeper.domain.kazoo_names import (
    GREGORIAN_UNIX_OFFSET,
    InvalidAccountId,
    canonical_db_name,
    is_account_id,
    parse_db_name,
    raw_account_id,
)

SOURCE = "amqp"
APP_NAME = "kazbill"
BOOKKEEPER_TYPE = "kazbill"
RESPONSE_STATUSES = ("success", "error", "fatal")

# Kazoo's pvt_type spellings of the documents that change what an account is billed, plus the
# two Kazbill's own billing reads.
RELEVANT_DOC_TYPES = frozenset({
    "account", "user", "device", "phone_numbers", "number", "limits", "credit", "service_plan",
    "periodic_fee", "onbill",
})
_DOC_ACTIONS = {"doc_created": "created", "doc_edited": "edited", "doc_deleted": "deleted"}
# kz_amqp_util's KEY_SAFE: "~" is safe too, although Kazoo's docs only mention [a-zA-Z0-9_-].
_KEY_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


class _Reject(Exception):
    """Leaves a parser early; caught in this module and turned into a RejectedMessage."""

    def __init__(self, code: str, field: str, reason: str):
        super().__init__(reason)
        self.code, self.field, self.reason = code, field, reason


def _rejecting(parse):
    """Turns a parser's early exit into the RejectedMessage the bridge stores."""
    @functools.wraps(parse)
    def guarded(routing_key: str, body: bytes, **kwargs):
        try:
            return parse(routing_key, body, **kwargs)
        except _Reject as rejected:
            return RejectedMessage.of(SOURCE, rejected.code, rejected.field, rejected.reason, routing_key, body)
    return guarded


def encode_routing_key_segment(text: str) -> str:
    """kz_amqp_util:encode/1: byte by byte over UTF-8, so that a dot inside an id cannot split
    the key. A lone "*" or "#" stays a wildcard, as in Kazoo."""
    if text in ("*", "#"):
        return text
    return "".join(
        chr(b) if b in _KEY_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in text.encode("utf-8")
    )


def decode_routing_key_segment(text: str) -> str:
    return unquote_plus(text, errors="replace")


@_rejecting
def parse_config_message(
    routing_key: str, body: bytes, *, received_gregorian: int, own_node: str | None = None
) -> DocumentChanged | RejectedMessage | None:
    """A message from Kazoo's `configuration` exchange (kapi_conf doc_update). A notice whose
    Node is `own_node` is Kazbill's own announcement of its own write: nothing to bill."""
    parts = routing_key.split(".")
    if parts[0].startswith("db_") or parts[0] == "configuration":
        return None  # database events and doc-type updates share the exchange; nothing to bill
    if parts[0] not in _DOC_ACTIONS or len(parts) != 4:
        raise _Reject("malformed_routing_key", "routing_key", "expected doc_<action>.<db>.<type>.<id>")
    key_action, key_db, doc_type, key_id = parts
    if doc_type not in RELEVANT_DOC_TYPES:
        return None
    obj = _load_object(body)
    if own_node is not None and obj.get("Node") == own_node:
        return None
    database = _text(obj, "Database", required=True)
    doc_id = _text(obj, "ID", required=True)
    _agree(obj.get("Event-Category"), "configuration", "Event-Category")
    soft_deleted = _flag(obj, "Is-Soft-Deleted")
    event_name = _text(obj, "Event-Name")
    # kzs_publish names the event doc_deleted for any (soft) deleted doc whatever action it
    # routes under; every other mismatch means the key and the body disagree.
    if not (event_name == "doc_deleted" and soft_deleted):
        _agree(event_name, key_action, "Event-Name")
    _agree(_text(obj, "Type"), doc_type, "Type")
    _agree(doc_id, decode_routing_key_segment(key_id), "ID")
    _agree(canonical_db_name(database), canonical_db_name(key_db), "Database")
    rev = _text(obj, "Rev")
    # Date-Created and Date-Modified are ignored: kzs_publish sends them swapped.

    db = parse_db_name(database)
    if db.kind in ("account", "account-month"):
        implied = db.account_id
    elif db.kind == "accounts" and doc_type == "account":
        implied = doc_id if is_account_id(doc_id) else None
    elif db.name.startswith("numbers/"):
        # Number docs carry no pvt_account_id in the shared numbers/<prefix> databases; Kazoo
        # saves a copy into the assigned account's database, whose event names the account.
        return None
    else:
        raise _Reject("not_account_database", "Database", f"{database!r} is not an account database")
    claimed = _account_id(obj.get("Account-ID"))
    if claimed and implied and claimed != implied:
        raise _Reject("inconsistent", "Account-ID", f"{claimed} does not own {database!r}/{doc_id!r}")
    account_id = claimed or implied
    if account_id is None:
        raise _Reject("unknown_account", "Account-ID", f"no valid Account-ID and {doc_id!r} is no account id")
    action = "deleted" if soft_deleted or event_name == "doc_deleted" else _DOC_ACTIONS[key_action]
    return DocumentChanged(
        account_id, db.name, doc_type, doc_id, action, rev, soft_deleted, SOURCE, received_gregorian
    )


@_rejecting
def parse_call_event(
    routing_key: str, body: bytes, *, received_gregorian: int
) -> CallEnded | RejectedMessage | None:
    """A message from Kazoo's `callevt` exchange; only CHANNEL_DESTROY matters for billing."""
    parts = routing_key.split(".")
    if len(parts) != 3 or parts[0] != "call":
        raise _Reject("malformed_routing_key", "routing_key", "expected call.<EVENT>.<call id>")
    if parts[1] != "CHANNEL_DESTROY":
        return None
    obj = _load_object(body)
    call_id = _text(obj, "Call-ID", required=True)
    _agree(call_id, decode_routing_key_segment(parts[2]), "Call-ID")
    _agree(obj.get("Event-Category"), "call_event", "Event-Category")
    _agree(obj.get("Event-Name"), "CHANNEL_DESTROY", "Event-Name")
    billing_seconds = _seconds(obj, "Billing-Seconds", required=True)
    ccv = obj.get("Custom-Channel-Vars") or {}  # null or empty: no channel vars at all
    if not isinstance(ccv, dict):
        raise _Reject("invalid_value", "Custom-Channel-Vars", "must be an object")
    if ccv.get("Account-ID") in (None, ""):
        if billing_seconds == 0:
            return None  # unanswered and unrouted (scanners, rejected carrier calls): nobody to bill
        raise _Reject("missing_field", "Custom-Channel-Vars.Account-ID", "an answered call names no account")
    account_id = _account_id(ccv["Account-ID"])
    if account_id is None:
        raise _Reject("invalid_value", "Custom-Channel-Vars.Account-ID", "not an account id")
    direction = _text(obj, "Call-Direction", strict=False)
    # FreeSWITCH's point of view: "inbound" is the A-leg that reached the switch, "outbound" a
    # B-leg it originated; a lone channel with no other leg is an A-leg too.
    leg = {"inbound": "a", "outbound": "b"}.get(direction or "")
    if leg is None and direction is None and not obj.get("Other-Leg-Call-ID"):
        leg = "a"
    request_user = (_text(obj, "Request", strict=False) or "").split("@", 1)[0]
    timestamp = _seconds(obj, "Timestamp")
    if timestamp is not None and timestamp < GREGORIAN_UNIX_OFFSET:  # Unix seconds would bill year 54
        raise _Reject("invalid_value", "Timestamp", f"not in Gregorian seconds: {timestamp}")
    callee = _text(obj, "Callee-ID-Number", strict=False) or request_user or None
    return CallEnded(
        account_id=account_id, call_id=call_id, leg=leg,
        billing_seconds=billing_seconds, duration_seconds=_seconds(obj, "Duration-Seconds"),
        direction=direction, caller=_text(obj, "Caller-ID-Number", strict=False), callee=callee,
        reseller_id=_account_id(ccv.get("Reseller-ID")), timestamp_gregorian=timestamp,
        hangup_cause=_text(obj, "Hangup-Cause", strict=False), received_gregorian=received_gregorian,
        resource_id=_ccv_text(ccv, "Resource-ID"), authorizing_type=_ccv_text(ccv, "Authorizing-Type"),
        request=request_user or None,
    )


def finished_call(ended: CallEnded) -> FinishedCall:
    """The call as billing rates it: only a carrier's leg is off-net (see bookkeeper.domain.calls);
    the switch's timestamp dates it, else the moment Kazbill received it."""
    return call_from_leg(
        account_id=ended.account_id, call_id=ended.call_id, billing_seconds=ended.billing_seconds,
        switch_direction=ended.direction, resource_id=ended.resource_id, authorizing_type=ended.authorizing_type,
        callee=ended.callee, request=ended.request, caller=ended.caller,
        ended_gregorian=ended.timestamp_gregorian or ended.received_gregorian)


def _ccv_text(ccv: dict, key: str) -> str | None:
    value = ccv.get(key)
    return value if isinstance(value, str) and value else None


@_rejecting
def parse_bookkeeper_request(routing_key: str, body: bytes) -> BookkeeperSyncRequested | RejectedMessage | None:
    """A request on Kazoo's `bookkeepers` exchange. Only update requests addressed to the
    "kazbill" bookkeeper become messages; the other categories are not handled yet."""
    parts = routing_key.split(".")
    if len(parts) != 3 or parts[0] != "bookkeepers":
        raise _Reject("malformed_routing_key", "routing_key", "expected bookkeepers.<category>.request")
    if parts[1:] != ["update", "request"]:
        return None
    obj = _load_object(body)
    if obj.get("Bookkeeper-Type") != BOOKKEEPER_TYPE:
        return None  # braintree's and others' requests travel on the same exchange
    _agree(obj.get("Event-Category"), "bookkeepers", "Event-Category")
    _agree(obj.get("Event-Name"), "update_req", "Event-Name")
    account_id = _account_id(_text(obj, "Account-ID", required=True))
    if account_id is None:
        raise _Reject("invalid_value", "Account-ID", "not an account id")
    return BookkeeperSyncRequested(
        account_id=account_id, bookkeeper_id=_text(obj, "Bookkeeper-ID") or "", bookkeeper_type=BOOKKEEPER_TYPE,
        msg_id=_text(obj, "Msg-ID", required=True),
        server_id=_text(obj, "Server-ID", required=True),  # the reply's only address
        dry_run=_flag(obj, "Dry-Run"),
    )


def _load_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _Reject("malformed_json", "body", f"not JSON: {exc}"[:200]) from None
    if not isinstance(data, dict):
        raise _Reject("not_an_object", "body", f"expected a JSON object, got {type(data).__name__}")
    return data


def _present(obj: dict, key: str, required: bool) -> Any:
    value = obj.get(key)
    if (value is None or value == "") and required:
        raise _Reject("missing_field", key, f"{key} is required")
    return None if value == "" else value


def _text(obj: dict, key: str, *, required: bool = False, strict: bool = True) -> Any:
    value = _present(obj, key, required)
    if value is not None and not isinstance(value, str):
        if strict or required:
            raise _Reject("invalid_value", key, f"{key} must be a string")
        return None  # a cosmetic field of the wrong type does not make a call unbillable
    return value


def _agree(body_value: Any, expected: str, field: str) -> None:
    """A header that is present must agree with the routing key (or the only value Kazoo sends)."""
    if body_value is not None and body_value != expected:
        raise _Reject("inconsistent", field, f"{body_value!r} where {expected!r} was expected"[:200])


def _flag(obj: dict, key: str) -> bool:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):  # kz_term:is_true accepts both
        return value.lower() == "true"
    raise _Reject("invalid_value", key, f"{key} must be a boolean")


def _seconds(obj: dict, key: str, *, required: bool = False) -> Any:
    value = _present(obj, key, required)
    if value is None:
        return None
    # Kazoo sends these as strings ("Billing-Seconds": "42"); accept integers as well.
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Reject("invalid_value", key, f"{key} must be a whole number of seconds")
    if value < 0:
        raise _Reject("invalid_value", key, f"{key} must not be negative")
    return value


def _account_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return raw_account_id(value)
    except InvalidAccountId:
        return None
