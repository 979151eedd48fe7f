"""A Kazoo message as a bridge reads it: the item for the shards, None for what is not Kazbill's
business, or a RejectedMessage for what can never be billed (too big to be a Kazoo event, or
unreadable: it would fail the same way at every redelivery)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.bridges.kazoo_fields import MAX_MESSAGE_BYTES
from actors.messages import RejectedMessage

Parse = Callable[[str, bytes, int], Any]


def parsed_or_rejected(parse: Parse, routing_key: str, body: bytes, received_gregorian: int) -> Any:
    if len(body) > MAX_MESSAGE_BYTES:
        return RejectedMessage.of(
            source="amqp",
            reason_code="oversized",
            field="body",
            reason=f"{len(body)} bytes, over the {MAX_MESSAGE_BYTES}-byte limit for a Kazoo event",
            routing_key=routing_key,
            payload=body,
        )  # kept cut short
    try:
        return parse(routing_key, body, received_gregorian)
    except Exception as error:  # noqa: BLE001 - it would raise again at every redelivery: poison
        reason = f"unreadable: {type(error).__name__}: {error}".encode("utf-8", "replace").decode("utf-8")
        return RejectedMessage.of(
            source="amqp",
            reason_code="unparseable",
            field="body",
            reason=reason[:200],
            routing_key=routing_key,
            payload=body,
        )
