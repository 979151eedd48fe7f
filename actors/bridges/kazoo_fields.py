"""Reading the headers of a Kazoo AMQP message: shared by the parsers of kazoo_messages (document
changes, call events) and bookkeeper_messages (the bookkeepers exchange).

A parser leaves early with `Reject`, which `rejecting` turns into the RejectedMessage the bridge
stores for a person (naming the field) and acknowledges: nothing read from the wire raises.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from actors.bridges.wire_json import decode_json
from actors.messages import ChangeSource, RejectedMessage
from bookkeeper.domain.kazoo_names import InvalidAccountId, raw_account_id

SOURCE: ChangeSource = "amqp"
# Kazoo's events are a few kilobytes (a CHANNEL_DESTROY with every channel variable, tens):
# anything far beyond is not an event, and parsing it would only cost memory.
MAX_MESSAGE_BYTES = 1024 * 1024
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


class Reject(Exception):
    """Leaves a parser early; caught by `rejecting` and turned into a RejectedMessage."""

    def __init__(self, code: str, field: str, reason: str):
        super().__init__(reason)
        self.code, self.field, self.reason = code, field, reason


def rejecting(parse):
    """Turns a parser's early exit into the RejectedMessage the bridge stores. Anything else a
    parser raises is rejected too: a parser is pure, so the same message would raise again on
    every delivery, and a message that can never be read is poison, not a reason to stop."""

    @functools.wraps(parse)
    def guarded(routing_key: str, body: bytes, **kwargs):
        try:
            return parse(routing_key, body, **kwargs)
        except Reject as rejected:
            return RejectedMessage.of(SOURCE, rejected.code, rejected.field, rejected.reason, routing_key, body)
        except Exception as error:  # noqa: BLE001 - see above: stored for a person, never raised
            reason = f"unreadable: {type(error).__name__}: {error}".encode("utf-8", "replace").decode("utf-8")
            return RejectedMessage.of(SOURCE, "unparseable", "body", reason[:200], routing_key, body)

    return guarded


def load_object(body: bytes) -> dict:
    if len(body) > MAX_MESSAGE_BYTES:  # the batching bridges refuse it unread already; the responder here
        raise Reject("oversized", "body", f"{len(body)} bytes, over the {MAX_MESSAGE_BYTES}-byte limit")
    data, problem = decode_json(body)
    if problem is not None:
        raise Reject(problem.code, problem.field, problem.reason)
    if not isinstance(data, dict):
        raise Reject("not_an_object", "body", f"expected a JSON object, got {type(data).__name__}")
    return data


def present(obj: dict, key: str, required: bool) -> Any:
    value = obj.get(key)
    if (value is None or value == "") and required:
        raise Reject("missing_field", key, f"{key} is required")
    return None if value == "" else value


def text(obj: dict, key: str, *, required: bool = False, strict: bool = True) -> Any:
    value = present(obj, key, required)
    if value is not None and not isinstance(value, str):
        if strict or required:
            raise Reject("invalid_value", key, f"{key} must be a string")
        return None  # a cosmetic field of the wrong type does not make a call unbillable
    return value


def agree(body_value: Any, expected: str, field: str) -> None:
    """A header that is present must agree with the routing key (or the only value Kazoo sends)."""
    if body_value is not None and body_value != expected:
        raise Reject("inconsistent", field, f"{body_value!r} where {expected!r} was expected"[:200])


def flag(obj: dict, key: str) -> bool:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):  # kz_term:is_true accepts both
        return value.lower() == "true"
    raise Reject("invalid_value", key, f"{key} must be a boolean")


def whole(obj: dict, key: str, *, required: bool = False, what: str = "seconds") -> Any:
    """A whole, non-negative number (seconds, units) sent as an integer or a string of digits."""
    value = present(obj, key, required)
    if value is None:
        return None
    # Kazoo sends these as strings ("Billing-Seconds": "42"); accept integers as well.
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise Reject("invalid_value", key, f"{key} must be a whole number of {what}")
    if value < 0:
        raise Reject("invalid_value", key, f"{key} must not be negative")
    return value


def account_id_of(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return raw_account_id(value)
    except InvalidAccountId:
        return None


def required_account_id(obj: dict, key: str = "Account-ID") -> str:
    account_id = account_id_of(text(obj, key, required=True))
    if account_id is None:
        raise Reject("invalid_value", key, "not an account id")
    return account_id
