"""Kazoo's AMQP messages, parsed into Kazbill's messages: document changes (`configuration`) and
call events (`callevt`) here, the bookkeepers exchange in bookkeeper_messages, the replies in
kazoo_replies.

Kazoo's header names ("Account-ID", "Billing-Seconds", ...) are translated here and nowhere else.
Pure: JSON in, frozen dataclasses out, and back. A parser returns a message for an actor,
None for something that is not Kazbill's business (ack and forget), or a RejectedMessage for a
payload that can never be processed (store it for a person, ack it). It never raises on what
arrives from the wire.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from actors.bridges.bookkeeper_messages import (  # noqa: F401 - re-exported: the bookkeepers exchange
    BOOKKEEPER_TYPE,
    RESPONSE_STATUSES,
    parse_bookkeeper_request,
    parse_standing_request,
)
from actors.bridges.kazoo_fields import (
    SOURCE,
    Reject,
    account_id_of,
    agree,
    flag,
    load_object,
    rejecting,
    text,
    whole,
)
from actors.messages import CallEnded, CallLeg, DocAction, DocumentChanged, RejectedMessage
from bookkeeper.domain.calls import (
    CCV_NAMES,
    CallRecordError,
    FinishedCall,
    call_from_leg,
    channel_variables,
    jonny5_levels,
    variable_text,
)
from bookkeeper.domain.kazoo_names import (
    GREGORIAN_UNIX_OFFSET,
    canonical_db_name,
    is_account_id,
    parse_db_name,
)

APP_NAME = "kazbill"

# Kazoo's pvt_type spellings of the documents that change what an account is billed, plus the
# two Kazbill's own billing reads. "service" is the account's document in the `services`
# database, whose `plans` say which service plans bill it (kzd_services.erl:125; saved by
# kz_services.erl:1164-1184, and announced as any saved document is, kzs_publish.erl:147-174).
RELEVANT_DOC_TYPES = frozenset(
    {
        "account",
        "user",
        "device",
        "phone_numbers",
        "number",
        "limits",
        "credit",
        "service_plan",
        "periodic_fee",
        "onbill",
        "service",
    }
)
_DOC_ACTIONS: dict[str, DocAction] = {"doc_created": "created", "doc_edited": "edited", "doc_deleted": "deleted"}
# kz_amqp_util's KEY_SAFE: "~" is safe too, although Kazoo's docs only mention [a-zA-Z0-9_-].
_KEY_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~")


def encode_routing_key_segment(segment: str) -> str:
    """kz_amqp_util:encode/1: byte by byte over UTF-8, so that a dot inside an id cannot split
    the key. A lone "*" or "#" stays a wildcard, as in Kazoo."""
    if segment in ("*", "#"):
        return segment
    return "".join(chr(b) if b in _KEY_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in segment.encode("utf-8"))


def decode_routing_key_segment(segment: str) -> str:
    return unquote_plus(segment, errors="replace")


@rejecting
def parse_config_message(
    routing_key: str, body: bytes, *, received_gregorian: int, own_node: str | None = None
) -> DocumentChanged | RejectedMessage | None:
    """A message from Kazoo's `configuration` exchange (kapi_conf doc_update). A notice whose
    Node is `own_node` is Kazbill's own announcement of its own write: nothing to bill, except a
    services document (billing never writes one: Kazbill's API assigning a plan does, and the
    plan is billed at once)."""
    parts = routing_key.split(".")
    if parts[0].startswith("db_") or parts[0] == "configuration":
        return None  # database events and doc-type updates share the exchange; nothing to bill
    if parts[0] not in _DOC_ACTIONS or len(parts) != 4:
        raise Reject("malformed_routing_key", "routing_key", "expected doc_<action>.<db>.<type>.<id>")
    key_action, key_db, doc_type, key_id = parts
    if doc_type not in RELEVANT_DOC_TYPES:
        return None
    obj = load_object(body)
    if own_node is not None and obj.get("Node") == own_node and doc_type != "service":
        return None
    database = text(obj, "Database", required=True)
    doc_id = text(obj, "ID", required=True)
    agree(obj.get("Event-Category"), "configuration", "Event-Category")
    soft_deleted = flag(obj, "Is-Soft-Deleted")
    event_name = text(obj, "Event-Name")
    # kzs_publish names the event doc_deleted for any (soft) deleted doc whatever action it
    # routes under; every other mismatch means the key and the body disagree.
    if not (event_name == "doc_deleted" and soft_deleted):
        agree(event_name, key_action, "Event-Name")
    agree(text(obj, "Type"), doc_type, "Type")
    agree(doc_id, decode_routing_key_segment(key_id), "ID")
    agree(canonical_db_name(database), canonical_db_name(key_db), "Database")
    rev = text(obj, "Rev")
    # Date-Created and Date-Modified are ignored: kzs_publish sends them swapped.

    db = parse_db_name(database)
    if db.kind in ("account", "account-month"):
        implied = db.account_id
    elif (db.kind, doc_type) in (("accounts", "account"), ("services", "service")):
        # An account's document in `accounts`, and its services document, are named by its id
        # (kz_services.erl:912-920: id and pvt_account_id are the account's).
        implied = doc_id if is_account_id(doc_id) else None
    elif db.name.startswith("numbers/"):
        # Number docs carry no pvt_account_id in the shared numbers/<prefix> databases; Kazoo
        # saves a copy into the assigned account's database, whose event names the account.
        return None
    else:
        raise Reject("not_account_database", "Database", f"{database!r} is not an account database")
    claimed = account_id_of(obj.get("Account-ID"))
    if claimed and implied and claimed != implied:
        raise Reject("inconsistent", "Account-ID", f"{claimed} does not own {database!r}/{doc_id!r}")
    account_id = claimed or implied
    if account_id is None:
        raise Reject("unknown_account", "Account-ID", f"no valid Account-ID and {doc_id!r} is no account id")
    action: DocAction = "deleted" if soft_deleted or event_name == "doc_deleted" else _DOC_ACTIONS[key_action]
    return DocumentChanged(account_id, db.name, doc_type, doc_id, action, rev, soft_deleted, SOURCE, received_gregorian)


@rejecting
def parse_call_event(routing_key: str, body: bytes, *, received_gregorian: int) -> CallEnded | RejectedMessage | None:
    """A message from Kazoo's `callevt` exchange; only CHANNEL_DESTROY matters for billing."""
    parts = routing_key.split(".")
    if len(parts) != 3 or parts[0] != "call":
        raise Reject("malformed_routing_key", "routing_key", "expected call.<EVENT>.<call id>")
    if parts[1] != "CHANNEL_DESTROY":
        return None
    obj = load_object(body)
    call_id = text(obj, "Call-ID", required=True)
    agree(call_id, decode_routing_key_segment(parts[2]), "Call-ID")
    agree(obj.get("Event-Category"), "call_event", "Event-Category")
    agree(obj.get("Event-Name"), "CHANNEL_DESTROY", "Event-Name")
    billing_seconds = whole(obj, "Billing-Seconds", required=True)
    ccv = obj.get("Custom-Channel-Vars") or {}  # null or empty: no channel vars at all
    if not isinstance(ccv, dict):
        raise Reject("invalid_value", "Custom-Channel-Vars", "must be an object")
    try:  # what decides the leg and jonny5's part in it: refused, never guessed, when malformed
        variables = channel_variables(ccv)
        resource_type = variable_text(variables, "resource_type")
        jonny5 = jonny5_levels(variables, billing_seconds)
    except CallRecordError as error:
        raise Reject(
            "invalid_value", f"Custom-Channel-Vars.{CCV_NAMES.get(error.field, error.field)}", error.reason
        ) from None
    if ccv.get("Account-ID") in (None, ""):
        if billing_seconds == 0:
            return None  # unanswered and unrouted (scanners, rejected carrier calls): nobody to bill
        raise Reject("missing_field", "Custom-Channel-Vars.Account-ID", "an answered call names no account")
    account_id = account_id_of(ccv["Account-ID"])
    if account_id is None:
        raise Reject("invalid_value", "Custom-Channel-Vars.Account-ID", "not an account id")
    direction = text(obj, "Call-Direction", strict=False)
    # FreeSWITCH's point of view: "inbound" is the A-leg that reached the switch, "outbound" a
    # B-leg it originated; a lone channel with no other leg is an A-leg too.
    legs: dict[str, CallLeg] = {"inbound": "a", "outbound": "b"}
    leg = legs.get(direction or "")
    if leg is None and direction is None and not obj.get("Other-Leg-Call-ID"):
        leg = "a"
    request_user = (text(obj, "Request", strict=False) or "").split("@", 1)[0]
    timestamp = whole(obj, "Timestamp")
    if timestamp is not None and timestamp < GREGORIAN_UNIX_OFFSET:  # Unix seconds would bill year 54
        raise Reject("invalid_value", "Timestamp", f"not in Gregorian seconds: {timestamp}")
    callee = text(obj, "Callee-ID-Number", strict=False) or request_user or None
    return CallEnded(
        account_id=account_id,
        call_id=call_id,
        leg=leg,
        billing_seconds=billing_seconds,
        duration_seconds=whole(obj, "Duration-Seconds"),
        direction=direction,
        caller=text(obj, "Caller-ID-Number", strict=False),
        callee=callee,
        reseller_id=account_id_of(ccv.get("Reseller-ID")),
        timestamp_gregorian=timestamp,
        hangup_cause=text(obj, "Hangup-Cause", strict=False),
        received_gregorian=received_gregorian,
        resource_id=_ccv_text(ccv, "Resource-ID"),
        authorizing_type=_ccv_text(ccv, "Authorizing-Type"),
        request=request_user or None,
        resource_type=resource_type,
        jonny5_levels=jonny5,
    )


def finished_call(ended: CallEnded) -> FinishedCall:
    """The call as billing rates it: only a carrier's leg is off-net (see bookkeeper.domain.calls);
    the switch's timestamp dates it, else the moment Kazbill received it."""
    return call_from_leg(
        account_id=ended.account_id,
        call_id=ended.call_id,
        billing_seconds=ended.billing_seconds,
        switch_direction=ended.direction,
        resource_id=ended.resource_id,
        authorizing_type=ended.authorizing_type,
        callee=ended.callee,
        request=ended.request,
        caller=ended.caller,
        ended_gregorian=ended.timestamp_gregorian or ended.received_gregorian,
        resource_type=ended.resource_type,
        jonny5=ended.jonny5_levels,
        kazoo_reseller_id=ended.reseller_id,
    )


def _ccv_text(ccv: dict, key: str) -> str | None:
    value = ccv.get(key)
    return value if isinstance(value, str) and value else None
