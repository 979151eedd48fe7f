"""Requests on Kazoo's `bookkeepers` exchange addressed to the "kazbill" bookkeeper (kapi_bookkeepers
in 4.3): `update_req` (bring the subscription up to date) and `standing_req` (may the account take
a billable change). Requests for other bookkeepers travel on the same exchange and are not ours.
Same contract as kazoo_messages: a message, None, or a RejectedMessage; never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.bridges.kazoo_fields import Reject, agree, flag, load_object, rejecting, required_account_id, text
from actors.messages import BookkeeperSyncRequested, RejectedMessage

BOOKKEEPER_TYPE = "kazbill"
RESPONSE_STATUSES = ("success", "error", "fatal")
UPDATE_KEY = "bookkeepers.update.request"
STANDING_KEY = "bookkeepers.standing.request"  # kapi_bookkeepers.erl:48,279


@dataclass(frozen=True)
class StandingRequested:
    """kz_services_standing asks whether the account is in good standing before a billable change
    (kz_services_standing.erl:212-232) and waits 2 s for the answer on its own queue
    (`server_id`), matched by `msg_id`."""

    account_id: str
    bookkeeper_id: str
    msg_id: str
    server_id: str


def _ours(routing_key: str, expected: str, body: bytes) -> dict | None:
    """The body of a request on `expected` for the kazbill bookkeeper, else None."""
    parts = routing_key.split(".")
    if len(parts) != 3 or parts[0] != "bookkeepers":
        raise Reject("malformed_routing_key", "routing_key", "expected bookkeepers.<category>.request")
    if routing_key != expected:
        return None
    obj = load_object(body)
    if obj.get("Bookkeeper-Type") != BOOKKEEPER_TYPE:
        return None  # braintree's and others' requests travel on the same exchange
    agree(obj.get("Event-Category"), "bookkeepers", "Event-Category")
    return obj


@rejecting
def parse_bookkeeper_request(routing_key: str, body: bytes) -> BookkeeperSyncRequested | RejectedMessage | None:
    """An update request (kapi_bookkeepers.erl:221-244): its category's own parser reads the others."""
    obj = _ours(routing_key, UPDATE_KEY, body)
    if obj is None:
        return None
    agree(obj.get("Event-Name"), "update_req", "Event-Name")
    account_id = required_account_id(obj)
    return BookkeeperSyncRequested(
        account_id=account_id,
        bookkeeper_id=text(obj, "Bookkeeper-ID") or "",
        bookkeeper_type=BOOKKEEPER_TYPE,
        msg_id=text(obj, "Msg-ID", required=True),
        server_id=text(obj, "Server-ID", required=True),  # the reply's only address
        dry_run=flag(obj, "Dry-Run"),
    )


@rejecting
def parse_standing_request(routing_key: str, body: bytes) -> StandingRequested | RejectedMessage | None:
    """A standing request (kapi_bookkeepers.erl:271-293). Kazbill answers from the account's own
    standing, so of Kazoo's other headers (Vendor-ID, Items, Estimated-Withdrawal) none is
    needed and none is checked: a request is refused only for what the answer cannot do without."""
    obj = _ours(routing_key, STANDING_KEY, body)
    if obj is None:
        return None
    agree(obj.get("Event-Name"), "standing_req", "Event-Name")
    account_id = required_account_id(obj)
    return StandingRequested(
        account_id=account_id,
        bookkeeper_id=text(obj, "Bookkeeper-ID") or "",
        msg_id=text(obj, "Msg-ID", required=True),
        server_id=text(obj, "Server-ID", required=True),
    )
