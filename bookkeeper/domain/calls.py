"""A finished call as billing sees it, from whichever source reported it (Kazoo's CHANNEL_DESTROY
event, or a CDR document): who placed it, how long it was billed, which number rates it.

Only calls that crossed a carrier cost money per minute: an on-net call (extension to extension,
no resource on either leg) is free. One call is charged once per account it is billed to, under
an entry id made of the call id: a second report of the call (both sources, a replay, the other
report of the same leg) writes the same id and is "already done".

Which leg is billed. Kazoo reports every channel of a call, and an off-net call has two: the leg
between the customer's phone and the switch, and the leg between the switch and the carrier.
Only the carrier's leg is billed, so the two reports can never be two charges:
- a leg the switch originated (`Call-Direction: outbound`, FreeSWITCH's point of view) that names
  the carrier resource stepswitch bridged it to (`Resource-ID`) is an outbound call: rated by the
  number called;
- a leg that reached the switch (`inbound`) from a carrier (`Authorizing-Type: resource`, or a
  `Resource-ID` set on it) is an inbound call: rated by the number it called in on.
Every other leg is on-net for billing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.charges import month_prefix, slug
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET

OUTBOUND, INBOUND = "outbound", "inbound"
_WHOLE = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class FinishedCall:
    account_id: str  # the account that placed (or, inbound, received) the call
    call_id: str
    billing_seconds: int
    number: str  # the digits the rate is found by: the number dialled out, or the number called in on
    direction: str  # outbound: the account called a carrier; inbound: a carrier's call to the account
    offnet: bool  # it went to or came from a carrier
    ended_gregorian: int
    caller: str = ""  # the calling number, for the calls report (and a carrier's caller patterns)


class CallRecordError(FieldError):
    """A call report that cannot be billed as it is; `field` names what is wrong."""


def call_entry_id(day: date, call_id: str) -> str:
    return f"{month_prefix(day)}-kazbill-call-{slug(call_id)[:120]}"


def dialled_digits(number: str | None) -> str:
    """The digits of an E.164 number as Kazoo writes it (+74951234567, 74951234567, sip user parts)."""
    return "".join(char for char in (number or "").split("@", 1)[0] if char.isdigit())


def billed_direction(switch_direction: str | None, resource_id: str | None,
                     authorizing_type: str | None) -> str | None:
    """OUTBOUND or INBOUND for the leg that faces a carrier, None for any other leg."""
    if switch_direction == "outbound" and resource_id:
        return OUTBOUND
    if switch_direction == "inbound" and (authorizing_type == "resource" or resource_id):
        return INBOUND
    return None


def rated_number(direction: str | None, callee: str | None, request: str | None) -> str:
    """Outbound: the number called (the callee, else the request's user part). Inbound: the
    number called in on (the request's user part, else the callee)."""
    first, second = (request, callee) if direction == INBOUND else (callee, request)
    return dialled_digits(first) or dialled_digits(second)


def call_from_leg(*, account_id: str, call_id: str, billing_seconds: int, switch_direction: str | None,
                  resource_id: str | None, authorizing_type: str | None, callee: str | None,
                  request: str | None, ended_gregorian: int, caller: str | None = None) -> FinishedCall:
    direction = billed_direction(switch_direction, resource_id, authorizing_type)
    return FinishedCall(account_id, call_id, billing_seconds, rated_number(direction, callee, request),
                        direction or OUTBOUND, direction is not None, ended_gregorian, dialled_digits(caller))


def call_from_cdr(doc: Mapping) -> FinishedCall | None:
    """A Kazoo CDR document (pvt_type "cdr" in an account's monthly database) as a finished call;
    None for a CDR with nothing to bill (unanswered, or no account on it). Channel variables are
    read in either spelling Kazoo stores them (`account_id` or `Account-ID`)."""
    call_id = doc.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise CallRecordError("call_id", "a CDR needs its call id")
    seconds = _whole(doc.get("billing_seconds"), "billing_seconds")
    variables = {str(key).lower().replace("-", "_"): value
                 for key, value in (doc.get("custom_channel_vars") or {}).items()}
    account_id = variables.get("account_id") or doc.get("pvt_account_id")
    if seconds == 0 or not account_id:
        return None
    if not isinstance(account_id, str):
        raise CallRecordError("custom_channel_vars.account_id", "must be a string")
    ended = _whole(doc.get("timestamp"), "timestamp")
    if ended < GREGORIAN_UNIX_OFFSET:
        raise CallRecordError("timestamp", f"not in Gregorian seconds: {ended}")
    return call_from_leg(
        account_id=account_id, call_id=call_id, billing_seconds=seconds,
        switch_direction=_text(doc.get("call_direction")), resource_id=_text(variables.get("resource_id")),
        authorizing_type=_text(variables.get("authorizing_type")), callee=_text(doc.get("callee_id_number")),
        request=_text(doc.get("request")) or _text(doc.get("to")), ended_gregorian=ended,
        caller=_text(doc.get("caller_id_number")))


def _whole(value: object, field: str) -> int:
    """Whole seconds, as Kazoo writes them: an integer, or a string of digits."""
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    raise CallRecordError(field, "must be a whole, non-negative number of seconds")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
