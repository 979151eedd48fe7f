"""A durable, shared AMQP queue on one of Kazoo's exchanges, consumed in batches for the shards.

One queue for all Kazbill nodes (non-exclusive), so each message reaches one node. Messages are
acknowledged only after the batch they are in has been handed off; what can never be processed is
stored for a person and acknowledged; a batch whose hand-off fails is handed off again one
message at a time, a message that fails alone is put back in the queue, and at its second
failure (handoff_failures.py) it is stored as poison and acknowledged, so that nothing is
dropped and nothing is retried forever. The bridges (configuration changes, call events)
differ only in their exchange, their bindings and their parser.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from actors.bridges.ack_window import AckWindow
from actors.bridges.amqp_settling import (
    SETTLE_ERRORS,
    SETTLE_TIMEOUT_S,
    cancel_consumer,
    channel_closed,
    hold_at_most,
    settle,
)
from actors.bridges.batch_collection import collect_batch
from actors.bridges.batch_sizing import BatchSizing
from actors.bridges.batches_in_flight import BatchesInFlight
from actors.bridges.handoff_failures import HandOffFailures
from actors.bridges.incoming import parsed_or_rejected
from actors.messages import RejectedMessage
from actors.system import HandOffUnavailable
from bookkeeper.ports import StoreUnavailable

log = logging.getLogger("kazbill.bridge.amqp")

Reject = Callable[[RejectedMessage], None]


@dataclass
class BatchingBridge:
    url: str
    handoff: Callable[[Sequence[Any]], Awaitable[None] | None]
    reject: Reject
    clock_gregorian: Callable[[], int]
    queue_name: str = ""
    sizing: BatchSizing = field(default_factory=BatchSizing)  # see batch_sizing.py
    # A batch is cut at its size, `batch_wait_s` after its first message, or once no message has
    # come for `quiet_s` (batch_collection.py).
    batch_wait_s: float = 0.2
    quiet_s: float = 0.03
    unavailable_pause_s: float = 2.0
    # Batches handed off and not yet answered: while the shards bill one, the next is collected
    # and handed off (with one, they idle while the bridge waits out its window). Each batch's
    # messages are still acknowledged only once that batch is done.
    in_flight: int = 1
    _paused_until: float = field(default=0.0, init=False, repr=False)  # see _pause
    _window: AckWindow = field(default_factory=AckWindow, init=False, repr=False)  # see ack_window.py
    _failures: HandOffFailures = field(default_factory=HandOffFailures, init=False, repr=False)
    # A cluster node's own queue goes by itself once unused this long (a node that left for
    # good); the shared single-node queue never does.
    queue_expires_ms: int | None = None

    exchange: ClassVar[str]  # Kazoo declares its exchanges non-durable: so must we, or the broker refuses

    def __post_init__(self) -> None:
        # A wait of zero or less would hand off batches of one message (quiet_s) or spin without
        # taking any (batch_wait_s).
        for name in ("batch_wait_s", "quiet_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def binding_keys(self) -> list[str]:
        raise NotImplementedError

    def parse(self, routing_key: str, body: bytes, received_gregorian: int) -> Any:
        """The item for the shards, None for what is not Kazbill's business, or a RejectedMessage.
        `received_gregorian`: when its batch was taken (the clock is read once a batch)."""
        raise NotImplementedError

    async def _handoff(self, items: Sequence[Any]) -> None:
        result = self.handoff(items)
        if inspect.isawaitable(result):
            await result

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url)
        try:
            channel = await connection.channel()
            prefetch = await hold_at_most(channel, self._prefetch(), 0)
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
            batches = BatchesInFlight(self.in_flight)
            consuming = True
            try:
                # Told to stop, the bridge takes no more deliveries and bills what it was handed
                # (the broker puts back what it sent meanwhile when the channel closes). Waiting
                # for nothing more to arrive never ended while Kazoo kept publishing. Told to stop
                # during an outage, it leaves what it was handed to the broker too: each batch
                # would be refused after a pause of its own.
                while consuming or not (arrived.empty() or self._paused()):
                    if consuming and stop.is_set():
                        consuming = False
                        await cancel_consumer(queue, tag)
                        continue
                    await batches.take_slot()  # raises what a batch in flight raised
                    prefetch = await hold_at_most(channel, self._prefetch(), prefetch, tolerant=True)
                    await asyncio.sleep(max(0.0, self._paused_until - time.monotonic()))
                    await collect_batch(
                        arrived,
                        pending,
                        self.sizing.size,
                        batch_wait_s=self.batch_wait_s,
                        quiet_s=self.quiet_s,
                        taken=self._window.taken,
                    )
                    if pending:
                        batches.start(self.process(pending))
                        pending = []
                    else:
                        batches.give_back()
                await batches.finish()
            finally:
                await batches.abandon()
                if consuming:
                    await cancel_consumer(queue, tag)
                for message in pending:  # never handed off: back to the queue for the next node
                    await self._settle(message, ack=False)
                for message in self._window.release_held():  # done behind one that never settled
                    await self._settle(message, ack=True)
        finally:
            await connection.close()

    async def process(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        parsed: list[tuple[AbstractIncomingMessage, Any]] = []
        ignored: list[AbstractIncomingMessage] = []  # not Kazbill's business: acknowledged with the batch
        received = self.clock_gregorian()
        for message in messages:
            result = self._parsed(message.routing_key or "", message.body, received)
            if isinstance(result, RejectedMessage):
                await self._store_as_poison(message, result)
            elif result is None:
                ignored.append(message)
            else:
                parsed.append((message, result))
        if parsed:
            started = time.monotonic()
            if await self._handed_off(parsed):
                self.sizing.answered(len(messages), time.monotonic() - started)
                for message, _ in parsed:  # a failure counted earlier is over
                    self._failures.succeeded(message.routing_key or "", message.body)
            else:
                parsed = []  # settled already, one by one
        await self._settle_batch([message for message, _ in parsed] + ignored)

    async def _handed_off(self, parsed: list[tuple[AbstractIncomingMessage, Any]]) -> bool:
        """Hands the batch off; False when it could not be, its messages then requeued or
        handed off (and settled) one by one."""
        try:
            await self._handoff([item for _, item in parsed])
        except HandOffUnavailable as error:
            # Not the messages' fault: all of them go back to the queue, and the bridge waits
            # before taking more, so that an outage is not a busy loop of redeliveries.
            log.warning("hand-off unavailable (%s); %d messages requeued", error, len(parsed))
            for message, _ in parsed:
                await self._settle(message, ack=False)
            self._pause()
            self.sizing.reset()
            return False
        except Exception as error:  # noqa: BLE001 - the batch is retried message by message
            log.warning("hand-off of %d messages failed (%s); retrying one by one", len(parsed), error)
            self.sizing.reset()
            for index, (message, item) in enumerate(parsed):
                if not await self._one(message, item):  # the shards went away meanwhile
                    for rest, _ in parsed[index + 1 :]:
                        await self._settle(rest, ack=False)  # not tried: each would wait out its timeout
                    break
            return False
        return True

    async def _settle(self, message: AbstractIncomingMessage, *, ack: bool) -> None:
        # A message whose ack or requeue did not go out stays unsettled in the window while its
        # channel lives: a later batch's one-frame ack must not take it with it (a requeue that
        # timed out would be acknowledged unbilled).
        if await settle(message, ack=ack) or channel_closed(message):
            self._window.settled([message])
            await self._acknowledge_ready()  # it may have been what held later batches back

    async def _settle_batch(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        """Acknowledges a handed-off batch: with the older batches' frame when it is done before
        them, with one frame of its own when it is the oldest (see ack_window.py)."""
        for message in self._window.handed_off(messages):
            await self._settle(message, ack=True)
        await self._acknowledge_ready()
        if self._window.held() > self.sizing.size * self.in_flight:
            # Holding more would have the broker stop delivering (the prefetch counts what is
            # held): the batches done behind a slow one are acknowledged one by one instead.
            for message in self._window.release_held():
                await self._settle(message, ack=True)

    async def _acknowledge_ready(self) -> None:
        for newest, covered in self._window.acknowledgeable():
            try:
                await asyncio.wait_for(newest.ack(multiple=True), SETTLE_TIMEOUT_S)
            except SETTLE_ERRORS as error:
                log.warning("%d messages not acknowledged (%s): the broker redelivers them", len(covered), error)

    def _prefetch(self) -> int:
        """Every batch in flight at the batch size of the moment, and as much again for the
        batches done and held behind an older one (see _settle_batch)."""
        return 2 * self.sizing.size * self.in_flight

    def _pause(self) -> None:
        """No batch is taken before the pause is over: an outage is not a loop of redeliveries,
        however many batches were in flight when it began."""
        self._paused_until = max(self._paused_until, time.monotonic() + self.unavailable_pause_s)

    def _paused(self) -> bool:
        return self._paused_until > time.monotonic()

    def _parsed(self, routing_key: str, body: bytes, received_gregorian: int) -> Any:
        return parsed_or_rejected(self.parse, routing_key, body, received_gregorian)

    async def _one(self, message: AbstractIncomingMessage, item: Any) -> bool:
        """One message of a failed batch, handed off alone; False when the shards are
        unavailable (the message is requeued and the bridge pauses)."""
        routing_key = message.routing_key or ""
        try:
            await self._handoff([item])
        except HandOffUnavailable:
            await self._settle(message, ack=False)
            self._pause()
            return False
        except Exception as error:  # noqa: BLE001 - a failure becomes a stored record, not a loop
            if not self._failures.failed(routing_key, message.body):
                await self._settle(message, ack=False)  # once more, later
                return True
            rejected = RejectedMessage.of(
                source="amqp",
                reason_code="handoff_failed",
                field="body",
                reason=f"handing the message off failed twice: {error}",
                routing_key=routing_key,
                payload=message.body,
            )
            await self._store_as_poison(message, rejected)
            return True
        self._failures.succeeded(routing_key, message.body)
        await self._settle(message, ack=True)
        return True

    async def _store_as_poison(self, message: AbstractIncomingMessage, rejected: RejectedMessage) -> None:
        """Stored, then acknowledged (a crash between the two means a redelivery, and the record
        is kept once). A store that cannot take it now gets it again at a redelivery: the message
        goes back to the queue and the bridge pauses, where the store's error stopped the bridge
        and every consumer of its process with it. Written off the event loop, which would
        otherwise wait on the store with every other consumer of the process."""
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.reject, rejected)
        except Exception as error:  # noqa: BLE001 - whatever the store raised: decided below
            if isinstance(error, StoreUnavailable) or not self._failures.failed("poison record", message.body):
                log.warning("poison (%s) not stored (%s); requeued", rejected.reason_code, error)
                await self._settle(message, ack=False)
                self._pause()
                return
            # Refused twice, and not for an outage: requeued again it would come back forever.
            # The log is where it is kept for a person then, whole but for its length.
            log.error(
                "poison (%s) the store refuses (%s), kept here: routing key %r, reason %r, payload %r",
                rejected.reason_code,
                error,
                rejected.routing_key,
                rejected.reason,
                rejected.payload_text[:4000],
            )
        await self._settle(message, ack=True)
