"""The outbox publisher on the real RabbitMQ when the broker drops every connection: it goes on
publishing once its robust connection is back (before, a publish in the reconnect window raised
out of run() and ended every consumer of the AMQP bridge's process with it), every announcement
reaches Kazoo's exchange, and it still stops when asked."""

from __future__ import annotations

import asyncio
import json
import uuid

import aio_pika
import pytest

from actors.bridges.amqp_announce import OutboxPublisher
from actors.bridges.amqp_config import EXCHANGE
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.services.billing.announcements import announce_write, pending_announcements
from bookkeeper.services.setup import store_setup
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support.broker import drop_every_connection
from testkit.support.bus import AMQP_URL
from testkit.support.kazbill_service import wait_for

pytestmark = pytest.mark.integration
REVISIONS = ["1-a", "2-b", "3-c", "4-d", "5-e"]


async def listening_queue(account: str) -> str:
    """A durable queue of the test's own on the account's notices: it outlives the dropped connections."""
    name = f"kazbill.test.{uuid.uuid4().hex}"
    async with await aio_pika.connect_robust(AMQP_URL) as connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)
        queue = await channel.declare_queue(name, durable=True)
        await queue.bind(exchange, routing_key=f"doc_edited.accounts.account.{account}")
    return name


async def revisions_heard_then_delete(name: str) -> list[str]:
    heard = []
    async with await aio_pika.connect_robust(AMQP_URL) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            heard.append(json.loads(message.body)["Rev"])
        await queue.delete(if_unused=False, if_empty=False)
    return heard


def test_announcements_are_published_across_a_dropped_connection_and_the_publisher_stops(tmp_path):
    store = EmbeddedStore(tmp_path / "outbox.sqlite3")
    store_setup.initialise(store, load_design_docs())
    account = new_account_id()
    publisher = OutboxPublisher(AMQP_URL, store, lambda: 2, node="test", app_version="0", interval_s=0.02)

    def announce(rev: str) -> None:
        announce_write(store, ACCOUNTS_DB, {"_id": account, "_rev": rev, "pvt_type": "account"}, 1)

    async def scenario(queue: str) -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(publisher.run(stop))
        announce(REVISIONS[0])
        await asyncio.to_thread(wait_for, lambda: not pending_announcements(store), 30, "the first published")
        await drop_every_connection("test: the broker drops its connections")
        for rev in REVISIONS[1:]:  # written while the publisher's connection comes back
            announce(rev)
            await asyncio.sleep(0.02)
        await asyncio.to_thread(wait_for, lambda: not pending_announcements(store), 60, "every one published")
        assert not running.done(), running  # not ended by the drop
        stop.set()
        await asyncio.wait_for(running, 30)

    queue = asyncio.run(listening_queue(account))
    try:
        asyncio.run(scenario(queue))
    finally:
        heard = asyncio.run(revisions_heard_then_delete(queue))
        store.close()
    assert set(heard) == set(REVISIONS)  # each reached Kazoo's exchange (one may twice: published, not yet marked)
