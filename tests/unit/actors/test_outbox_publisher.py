"""The outbox publisher through a broker that is reconnecting and a store that is away: the
round ends, nothing is marked that was not published, and the next round publishes it. Fakes
for the exchange and the store's failure; the run on RabbitMQ is in
tests/integration/test_outbox_publisher.py."""

from __future__ import annotations

import asyncio

import aiormq
import pytest
from pamqp.commands import Basic

from actors.bridges import amqp_announce
from actors.bridges.amqp_announce import OutboxPublisher
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.ports import StoreUnavailable
from bookkeeper.services.billing.announcements import announce_write, pending_announcements
from bookkeeper.services.setup import store_setup

ACCOUNT = "1" * 32


class Exchange:
    """Publishes into a list; `failures` first raise what a robust channel raises while reconnecting."""

    def __init__(self, failures: int = 0, hang: bool = False, refused: int = 0):
        self.failures, self.hang, self.refused = failures, hang, refused
        self.published: list[str] = []

    async def publish(self, message, routing_key: str) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.refused:  # the broker nacks it (a full queue that rejects publishes)
            self.refused -= 1
            raise aiormq.exceptions.DeliveryError(None, Basic.Nack(delivery_tag=1))
        if self.failures:
            self.failures -= 1
            raise aiormq.exceptions.ChannelInvalidStateError("<RobustChannel> closed")
        self.published.append(routing_key)


class MarkingRefused(EmbeddedStore):
    """The store, away for the marks (its writes) while `away` is set."""

    away = False

    def put(self, db, doc):
        if self.away:
            raise StoreUnavailable("sqlite", "away")
        return super().put(db, doc)


@pytest.fixture
def publisher(tmp_path):
    store = MarkingRefused(tmp_path / "outbox.sqlite3")
    store_setup.initialise(store, load_design_docs())  # the outbox's view
    announce_write(store, ACCOUNTS_DB, {"_id": ACCOUNT, "_rev": "2-a", "pvt_type": "account"}, 1)
    yield OutboxPublisher("amqp://unused", store, lambda: 2, node="test", app_version="0")
    store.close()


def test_a_round_that_meets_the_broker_reconnecting_ends_and_the_next_publishes(publisher):
    exchange = Exchange(failures=1)
    assert asyncio.run(publisher.publish_pending(exchange)) == 0  # said, not raised
    assert exchange.published == [] and len(pending_announcements(publisher.store)) == 1  # not marked
    assert asyncio.run(publisher.publish_pending(exchange)) == 1
    assert len(exchange.published) == 1 and pending_announcements(publisher.store) == []


def test_a_round_that_cannot_mark_ends_and_the_next_publishes_again(publisher):
    exchange = Exchange()
    publisher.store.away = True
    assert asyncio.run(publisher.publish_pending(exchange)) == 0
    assert len(exchange.published) == 1 and len(pending_announcements(publisher.store)) == 1
    publisher.store.away = False
    assert asyncio.run(publisher.publish_pending(exchange)) == 1
    assert len(exchange.published) == 2 and pending_announcements(publisher.store) == []  # twice: harmless


def test_an_announcement_the_broker_refuses_does_not_hold_back_the_others(publisher):
    announce_write(publisher.store, ACCOUNTS_DB, {"_id": "2" * 32, "_rev": "1-b", "pvt_type": "account"}, 1)
    exchange = Exchange(refused=1)
    assert asyncio.run(publisher.publish_pending(exchange)) == 2
    assert len(exchange.published) == 1 and len(pending_announcements(publisher.store)) == 1  # the refused one
    asyncio.run(publisher.publish_pending(exchange))
    assert len(exchange.published) == 2 and pending_announcements(publisher.store) == []


def test_rounds_failing_for_five_minutes_are_said_at_error(publisher, monkeypatch, caplog):
    clock = [1000.0]
    monkeypatch.setattr(amqp_announce.time, "monotonic", lambda: clock[0])
    exchange = Exchange(failures=10)
    asyncio.run(publisher.publish_pending(exchange))
    assert [record.levelname for record in caplog.records] == ["WARNING"]  # a reconnect, as far as anyone knows
    clock[0] += amqp_announce.FAILING_LOUDLY_AFTER_S
    asyncio.run(publisher.publish_pending(exchange))
    assert caplog.records[-1].levelname == "ERROR" and "failed for 300 s" in caplog.records[-1].getMessage()
    exchange.failures = 0
    asyncio.run(publisher.publish_pending(exchange))
    assert publisher.failing_since is None  # a round that went through ends the run of failures


def test_a_broker_that_blocks_publishing_does_not_hold_the_round(publisher, monkeypatch):
    monkeypatch.setattr(amqp_announce, "PUBLISH_TIMEOUT_S", 0.05)
    assert asyncio.run(publisher.publish_pending(Exchange(hang=True))) == 0
    assert len(pending_announcements(publisher.store)) == 1
