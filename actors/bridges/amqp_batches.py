"""A durable, shared AMQP queue on one of Kazoo's exchanges, consumed in batches for the shards.

One queue for all Kazbill nodes (non-exclusive), so each message reaches one node. Messages are
acknowledged only after the batch they are in has been handed off; what can never be processed is
stored for a person and acknowledged; a message whose hand-off fails is delivered once more,
alone, and after a second failure it is stored as poison and acknowledged, so that nothing is
dropped and nothing is retried forever. The bridges (configuration changes, call events) differ
only in their exchange, their bindings and their parser.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from actors.bridges.kazoo_fields import MAX_MESSAGE_BYTES
from actors.messages import RejectedMessage
from actors.system import HandOffUnavailable

log = logging.getLogger("kazbill.bridge.amqp")

Reject = Callable[[RejectedMessage], None]


@dataclass
class BatchingBridge:
    url: str
    handoff: Callable[[Sequence[Any]], Awaitable[None] | None]
    reject: Reject
    clock_gregorian: Callable[[], int]
    queue_name: str = ""
    batch_size: int = 200
    batch_wait_s: float = 0.2
    unavailable_pause_s: float = 2.0
    # A cluster node's own queue goes by itself once unused this long (a node that left for
    # good); the shared single-node queue never does.
    queue_expires_ms: int | None = None

    exchange: ClassVar[str]  # Kazoo declares its exchanges non-durable: so must we, or the broker refuses

    def binding_keys(self) -> list[str]:
        raise NotImplementedError

    def parse(self, routing_key: str, body: bytes) -> Any:
        """The item for the shards, None for what is not Kazbill's business, or a RejectedMessage."""
        raise NotImplementedError

    async def _handoff(self, items: Sequence[Any]) -> None:
        result = self.handoff(items)
        if inspect.isawaitable(result):
            await result

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.batch_size)
            exchange = await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=False)
            queue = await channel.declare_queue(
                self.queue_name,
                durable=True,
                arguments=({"x-expires": self.queue_expires_ms} if self.queue_expires_ms else None),
            )
            for key in self.binding_keys():
                await queue.bind(exchange, routing_key=key)
            pending: list[AbstractIncomingMessage] = []
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            tag = await queue.consume(arrived.put)
            log.info("bound %s to Kazoo's %s exchange", self.queue_name, self.exchange)
            try:
                while not stop.is_set() or not arrived.empty():
                    deadline = time.monotonic() + self.batch_wait_s
                    while len(pending) < self.batch_size and time.monotonic() < deadline:
                        try:
                            pending.append(await asyncio.wait_for(arrived.get(), deadline - time.monotonic()))
                        except TimeoutError:
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
            result = self._parsed(message.routing_key or "", message.body)
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
            await self._handoff([item for _, item in parsed])
        except HandOffUnavailable as error:
            # Not the messages' fault: all of them go back to the queue, and the bridge waits
            # before taking more, so that an outage is not a busy loop of redeliveries.
            log.warning("hand-off unavailable (%s); %d messages requeued", error, len(parsed))
            for message, _ in parsed:
                await message.nack(requeue=True)
            await asyncio.sleep(self.unavailable_pause_s)
            return
        except Exception as error:  # noqa: BLE001 - the batch is retried message by message
            log.warning("hand-off of %d messages failed (%s); retrying one by one", len(parsed), error)
            for message, item in parsed:
                await self._one(message, item)
            return
        for message, _ in parsed:
            await message.ack()

    def _parsed(self, routing_key: str, body: bytes) -> Any:
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
            return self.parse(routing_key, body)
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

    async def _one(self, message: AbstractIncomingMessage, item: Any) -> None:
        try:
            await self._handoff([item])
        except HandOffUnavailable:
            await message.nack(requeue=True)
            await asyncio.sleep(self.unavailable_pause_s)
            return
        except Exception as error:  # noqa: BLE001 - a failure becomes a stored record, not a loop
            if not message.redelivered:
                await message.nack(requeue=True)  # once more, later
                return
            self.reject(
                RejectedMessage.of(
                    source="amqp",
                    reason_code="handoff_failed",
                    field="body",
                    reason=f"handing the message off failed twice: {error}",
                    routing_key=message.routing_key or "",
                    payload=message.body,
                )
            )
        await message.ack()
