"""The AMQP bridge for Kazoo's `configuration` exchange: document changes in, batches of accounts
out (see amqp_batches for the queue's guarantees)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from actors.bridges.amqp_batches import BatchingBridge
from actors.bridges.kazoo_messages import RELEVANT_DOC_TYPES, parse_config_message
from actors.messages import DocumentChanged, RejectedMessage

EXCHANGE = "configuration"
DEFAULT_QUEUE = "kazbill.configuration"
ACTIONS = ("doc_created", "doc_edited", "doc_deleted")


def binding_keys() -> list[str]:
    return [f"{action}.*.{doc_type}.*" for action in ACTIONS for doc_type in sorted(RELEVANT_DOC_TYPES)]


@dataclass
class ConfigBridge(BatchingBridge):
    queue_name: str = DEFAULT_QUEUE
    own_node: str | None = None  # Kazbill's own announcements come back on the exchange: skip them

    exchange: ClassVar[str] = EXCHANGE

    def binding_keys(self) -> list[str]:
        return binding_keys()

    def parse(self, routing_key: str, body: bytes, received_gregorian: int) -> DocumentChanged | RejectedMessage | None:
        return parse_config_message(routing_key, body, received_gregorian=received_gregorian, own_node=self.own_node)
