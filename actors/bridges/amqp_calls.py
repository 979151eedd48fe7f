"""The AMQP bridge for Kazoo's `callevt` exchange: each channel's CHANNEL_DESTROY in, batches of
finished calls out to the shards of the accounts that placed them (see amqp_batches for the
queue's guarantees). Kazoo publishes every call event there; only CHANNEL_DESTROY is bound, so
the queue never sees the rest of a call's chatter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from actors.bridges.amqp_batches import BatchingBridge
from actors.bridges.kazoo_messages import finished_call, parse_call_event
from actors.messages import RejectedMessage
from bookkeeper.domain.calls import FinishedCall

EXCHANGE = "callevt"
DEFAULT_QUEUE = "kazbill.calls"


@dataclass
class CallBridge(BatchingBridge):
    queue_name: str = DEFAULT_QUEUE

    exchange: ClassVar[str] = EXCHANGE

    def binding_keys(self) -> list[str]:
        return ["call.CHANNEL_DESTROY.*"]

    def parse(self, routing_key: str, body: bytes, received_gregorian: int) -> FinishedCall | RejectedMessage | None:
        ended = parse_call_event(routing_key, body, received_gregorian=received_gregorian)
        if ended is None or isinstance(ended, RejectedMessage):
            return ended
        call = finished_call(ended)
        # The phone's leg of a call and an unanswered one cost nothing: not worth a shard's time.
        return call if call.offnet and call.billing_seconds > 0 else None
