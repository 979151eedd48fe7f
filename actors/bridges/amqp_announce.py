"""Publishes the outbox (bookkeeper/services/billing/announcements.py): a `doc_edited` notice on Kazoo's
`configuration` exchange for every Kazoo document Kazbill wrote, so that Kazoo's caches flush.

Published first, marked after: a crash in between publishes a notice twice, never loses one.
The store is read in a thread, so the event loop that consumes Kazoo's messages never waits on it.
A round that meets the broker reconnecting (a robust channel refuses to publish meanwhile) or the
store away ends there and the next round starts over; raised, either would have ended the
process's every consumer with it (run.all_or_none), and a flapping broker its restart budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
import aiormq
from aiormq.exceptions import ChannelInvalidStateError, DeliveryError

from actors.bridges.amqp_config import EXCHANGE
from actors.bridges.kazoo_replies import encode_doc_edited_notice
from bookkeeper.ports import DocumentStore, StoreError
from bookkeeper.services.billing.announcements import mark_published, pending_announcements

log = logging.getLogger("kazbill.bridge.announce")
PUBLISH_TIMEOUT_S = 10.0  # a broker that blocks publishers (a memory alarm) must not hold a stop
# What publishing raises while the connection is away or coming back: aiormq's errors (the
# ChannelInvalidStateError of a robust channel not yet reopened among them) and a timeout.
PUBLISH_ERRORS = (aiormq.exceptions.AMQPError, ChannelInvalidStateError, ConnectionError, TimeoutError)
FAILING_LOUDLY_AFTER_S = 300.0  # rounds failing this long are an ERROR in the log, not a reconnect


@dataclass
class OutboxPublisher:
    url: str
    store: DocumentStore
    clock_gregorian: Callable[[], int]
    node: str
    app_version: str
    interval_s: float = 1.0
    failing_since: float | None = None  # (monotonic) the first round of a run of failed ones

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)
            log.info("announcing Kazbill's writes to Kazoo documents on the %s exchange", EXCHANGE)
            while not stop.is_set():
                published = await self.publish_pending(exchange)
                if not published:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.interval_s)
        finally:
            await connection.close()

    async def publish_pending(self, exchange) -> int:
        loop = asyncio.get_running_loop()
        try:
            pending = await loop.run_in_executor(None, pending_announcements, self.store)
        except Exception as error:  # noqa: BLE001 - the store is away: the next round tries again
            self._failed(f"cannot read the outbox: {error}")
            return 0
        for announcement in pending:
            try:
                key, body = encode_doc_edited_notice(
                    announcement["database"],
                    announcement["doc_type"],
                    announcement["doc_id"],
                    announcement["rev"],
                    announcement["account_id"],
                    node=self.node,
                    app_version=self.app_version,
                )
            except ValueError as error:  # cannot be routed: kept, marked, and said
                log.error("announcement %s cannot be published: %s", announcement["_id"], error)
            else:
                try:
                    await asyncio.wait_for(
                        exchange.publish(aio_pika.Message(body, content_type="application/json"), routing_key=key),
                        PUBLISH_TIMEOUT_S,
                    )
                except DeliveryError as error:  # this one refused (a nack): the rest still go
                    log.warning(
                        "announcement %s refused by the broker, kept for the next round: %r", announcement["_id"], error
                    )
                    continue
                except PUBLISH_ERRORS as error:
                    self._failed(f"the broker is away, announcements wait for the next round: {error!r}")
                    return 0
            try:
                await loop.run_in_executor(None, mark_published, self.store, announcement, self.clock_gregorian())
            except StoreError as error:  # published, not marked: published again next round (harmless)
                self._failed(f"cannot mark announcement {announcement['_id']} published: {error}")
                return 0
        self.failing_since = None
        return len(pending)

    def _failed(self, why: str) -> None:
        """A reconnect or a store outage is said at WARNING; rounds failing for five minutes on
        end are no reconnect, and are said at ERROR (once a minute at most)."""
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        failing_s = now - self.failing_since
        if failing_s < FAILING_LOUDLY_AFTER_S:
            log.warning(why)
        elif int(failing_s) % 60 < self.interval_s + 1:
            log.error("announcements have failed for %.0f s: %s", failing_s, why)
