"""The AMQP bridge for Kazoo's `configuration` exchange: document changes in, batches out.

One durable, shared, non-exclusive queue, so that each change reaches one Kazbill node. Messages
are acknowledged only after the batch they are in has been handed off; what can never be
processed is stored for a person and acknowledged; a message whose hand-off fails is delivered
once more, alone, and after a second failure it is stored as poison and acknowledged, so that
nothing is dropped and nothing is retried forever.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from actors.bridges.kazoo_messages import RELEVANT_DOC_TYPES, parse_config_message
from actors.messages import DocumentChanged, RejectedMessage
from actors.system import HandOffUnavailable

log = logging.getLogger("kazbill.bridge.amqp")

EXCHANGE = "configuration"  # Kazoo declares it non-durable: so must we, or the broker refuses
DEFAULT_QUEUE = "kazbill.configuration"
ACTIONS = ("doc_created", "doc_edited", "doc_deleted")

Handoff = Callable[[Sequence[DocumentChanged]], Awaitable[None] | None]
Reject = Callable[[RejectedMessage], None]


def binding_keys() -> list[str]:
    return [f"{action}.*.{doc_type}.*" for action in ACTIONS for doc_type in sorted(RELEVANT_DOC_TYPES)]


@dataclass
class ConfigBridge:
    url: str
    handoff: Handoff
    reject: Reject
    clock_gregorian: Callable[[], int]
    queue_name: str = DEFAULT_QUEUE
    batch_size: int = 200
    batch_wait_s: float = 0.2
    unavailable_pause_s: float = 2.0
    own_node: str | None = None  # Kazbill's own announcements come back on the exchange: skip them

    async def _handoff(self, changes: Sequence[DocumentChanged]) -> None:
        result = self.handoff(changes)
        if inspect.isawaitable(result):
            await result

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.batch_size)
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)
            queue = await channel.declare_queue(self.queue_name, durable=True)
            for key in binding_keys():
                await queue.bind(exchange, routing_key=key)
            pending: list[AbstractIncomingMessage] = []
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            tag = await queue.consume(arrived.put)
            log.info("bound %s to Kazoo's configuration exchange", self.queue_name)
            try:
                while not stop.is_set() or not arrived.empty():
                    deadline = time.monotonic() + self.batch_wait_s
                    while len(pending) < self.batch_size and time.monotonic() < deadline:
                        try:
                            pending.append(await asyncio.wait_for(arrived.get(), deadline - time.monotonic()))
                        except asyncio.TimeoutError:
                            break
                    if pending:
                        await self.process(pending)
                        pending = []
            finally:
                await queue.cancel(tag)
                for message in pending:  # never handed off: back to the queue for the next node
                    await message.nack(requeue=True)
        finally:
            await connection.close()

    async def process(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        parsed: list[tuple[AbstractIncomingMessage, Any]] = []
        for message in messages:
            result = parse_config_message(message.routing_key or "", message.body,
                                          received_gregorian=self.clock_gregorian(), own_node=self.own_node)
            if isinstance(result, RejectedMessage):
                self.reject(result)  # stored before the ack: a crash here means a redelivery
                await message.ack()
            elif result is None:
                await message.ack()  # not Kazbill's business
            else:
                parsed.append((message, result))
        if not parsed:
            return
        try:
            await self._handoff([change for _, change in parsed])
        except HandOffUnavailable as error:
            # Not the messages' fault: all of them go back to the queue, and the bridge waits
            # before taking more, so that an outage is not a busy loop of redeliveries.
            log.warning("hand-off unavailable (%s); %d messages requeued", error, len(parsed))
            for message, _ in parsed:
                await message.nack(requeue=True)
            await asyncio.sleep(self.unavailable_pause_s)
            return
        except Exception as error:  # noqa: BLE001 - the batch is retried message by message
            log.warning("hand-off of %d changes failed (%s); retrying one by one", len(parsed), error)
            for message, change in parsed:
                await self._one(message, change)
            return
        for message, _ in parsed:
            await message.ack()

    async def _one(self, message: AbstractIncomingMessage, change: DocumentChanged) -> None:
        try:
            await self._handoff([change])
        except HandOffUnavailable:
            await message.nack(requeue=True)
            await asyncio.sleep(self.unavailable_pause_s)
            return
        except Exception as error:  # noqa: BLE001 - a failure becomes a stored record, not a loop
            if not message.redelivered:
                await message.nack(requeue=True)  # once more, later
                return
            self.reject(RejectedMessage.of(
                source="amqp", reason_code="handoff_failed", field="body",
                reason=f"handing the change off failed twice: {error}",
                routing_key=message.routing_key or "", payload=message.body))
        await message.ack()
