"""A finished call as billing sees it, from whichever source reported it (Kazoo's CHANNEL_DESTROY
event, or a CDR document): who placed it, how long it was billed, which number rates it.

Only calls that crossed a carrier cost money per minute: an on-net call (extension to extension,
no resource on either leg) is free. One call is charged once per account it is billed to, under
an entry id made of the call id: a second report of the call (both sources, a replay, the other
report of the same leg) writes the same id and is "already done".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bookkeeper.domain.charges import month_prefix, slug

OUTBOUND, INBOUND = "outbound", "inbound"


@dataclass(frozen=True)
class FinishedCall:
    account_id: str  # the account that placed (or, inbound, received) the call
    call_id: str
    billing_seconds: int
    number: str  # the digits the rate is found by: the number dialled out, or the number called in on
    direction: str  # outbound: the account called a carrier; inbound: a carrier's call to the account
    offnet: bool  # it went to or came from a carrier
    ended_gregorian: int


def call_entry_id(day: date, call_id: str) -> str:
    return f"{month_prefix(day)}-kazbill-call-{slug(call_id)[:120]}"


def dialled_digits(number: str | None) -> str:
    """The digits of an E.164 number as Kazoo writes it (+74951234567, 74951234567, sip user parts)."""
    return "".join(char for char in (number or "").split("@", 1)[0] if char.isdigit())
