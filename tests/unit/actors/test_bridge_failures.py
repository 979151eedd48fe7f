"""What the batching bridge does when its store or its shards fail mid-batch (fakes for the
deliveries; the same paths against the real broker are in tests/integration/test_amqp_config_bridge.py):
a poison record the store cannot take puts the message back instead of stopping the bridge; a
batch retried one by one stops trying once the shards are gone; the consumers of a process stop
together; a prefetch change never holds a bridge on a reconnecting channel."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from actors.bridges import amqp_settling
from actors.bridges.amqp_batches import BatchingBridge
from actors.bridges.run import all_or_none, reconcile_changed
from actors.hand_off import HandOffUnavailable
from actors.messages import DocumentChanged
from bookkeeper.ports import StoreUnavailable
from tests.unit.actors.test_ack_window import Channel, Message


@dataclass(eq=False)
class Delivery(Message):
    body: bytes = b"{}"
    routing_key: str = "call.CHANNEL_DESTROY.x"
    frames: list = field(default_factory=list)

    async def ack(self, multiple: bool = False):
        self.frames.append(("ack", self.delivery_tag, multiple))

    async def nack(self, requeue: bool = True):
        self.frames.append(("nack", self.delivery_tag, requeue))


class Bridge(BatchingBridge):
    def parse(self, routing_key, body, received_gregorian):
        return body.decode()


def deliveries(bodies: list[str]) -> tuple[list[Delivery], list]:
    channel, frames = Channel(), []
    return [Delivery(n + 1, channel, body.encode(), frames=frames) for n, body in enumerate(bodies)], frames


def run_batch(bridge: Bridge, messages: list[Delivery]) -> None:
    for message in messages:
        bridge._window.taken(message)
    asyncio.run(bridge.process(messages))


def test_a_poison_record_the_store_cannot_take_puts_the_message_back_and_pauses_the_bridge():
    def reject(rejected):
        raise StoreUnavailable("kazbill_failures", "connection refused")

    bridge = Bridge("amqp://unused", lambda items: None, reject, lambda: 0)
    bridge.parse = lambda routing_key, body, received: 1 / 0  # type: ignore[method-assign]  # unreadable
    messages, frames = deliveries(["garbage"])
    run_batch(bridge, messages)
    assert frames == [("nack", 1, True)]  # the broker's again, to be stored at its redelivery


def test_a_batch_retried_one_by_one_stops_at_the_first_message_the_shards_cannot_take():
    tried: list[list[str]] = []

    def handoff(items):
        tried.append(list(items))
        if len(items) > 1:
            raise RuntimeError("one of them is bad")
        raise HandOffUnavailable("the shards are restarting")

    bridge = Bridge("amqp://unused", handoff, lambda rejected: None, lambda: 0)
    messages, frames = deliveries(["a", "b", "c"])
    run_batch(bridge, messages)
    assert tried == [["a", "b", "c"], ["a"]]  # b and c never wait out a hand-off of their own
    assert sorted(frames) == [("nack", 1, True), ("nack", 2, True), ("nack", 3, True)]


def test_the_store_away_while_telling_billed_accounts_is_the_shards_unavailable_not_the_changes_fault():
    class AwayStore:
        def get_many(self, db, doc_ids):
            raise StoreUnavailable(db, "connection refused")

    account_id = "a" * 32
    change = DocumentChanged(account_id, "services", "service", account_id, "edited", "2-x", False, "amqp", 0)
    with pytest.raises(HandOffUnavailable, match="cannot tell which accounts"):
        reconcile_changed(AwayStore(), None, [change])


def test_when_one_consumer_fails_the_others_are_stopped_before_the_error_goes_on():
    stopped: list[str] = []

    async def consumer(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.append(name)

    async def failing() -> None:
        await asyncio.sleep(0)
        raise ConnectionError("broker closed the connection")

    async def scenario():
        with pytest.raises(ConnectionError):
            await all_or_none(consumer("calls"), failing(), consumer("publisher"))

    asyncio.run(scenario())
    assert sorted(stopped) == ["calls", "publisher"]


def test_a_prefetch_change_on_a_reconnecting_channel_is_left_for_the_next_batch(monkeypatch):
    monkeypatch.setattr(amqp_settling, "SETTLE_TIMEOUT_S", 0.05)

    class Reconnecting:
        is_closed = False

        async def set_qos(self, **kwargs):
            await asyncio.sleep(3600)  # a robust channel waiting to be ready

    class Closed:
        is_closed = True

        async def set_qos(self, **kwargs):
            raise AssertionError("not asked of a closed channel")

    # No answer in time: the limit is unknown (aiormq closes such a channel), set again next batch.
    assert asyncio.run(amqp_settling.hold_at_most(Reconnecting(), 800, 400, tolerant=True)) == 0
    # Closed: the channel reopens with the limit it was last given.
    assert asyncio.run(amqp_settling.hold_at_most(Closed(), 800, 400, tolerant=True)) == 400


def test_poison_the_store_refuses_twice_not_for_an_outage_goes_to_the_log_whole_and_is_acknowledged(caplog):
    """Requeued every time, it would come back forever; the log keeps it for a person."""

    def reject(rejected):
        raise ValueError("a record the store will never take")

    bridge = Bridge("amqp://unused", lambda items: None, reject, lambda: 0)
    bridge.parse = lambda routing_key, body, received: 1 / 0  # type: ignore[method-assign]
    first, frames = deliveries(["garbage"])
    run_batch(bridge, first)
    again, frames_again = deliveries(["garbage"])  # its redelivery
    with caplog.at_level("ERROR", logger="kazbill.bridge.amqp"):
        run_batch(bridge, again)
    assert frames == [("nack", 1, True)] and frames_again == [("ack", 1, False)]
    assert "'garbage'" in caplog.text and "unparseable" in caplog.text


def test_a_message_billed_in_a_batch_after_failing_alone_starts_its_count_afresh():
    fail = {"alone": True}

    def handoff(items):
        if len(items) > 1 or fail["alone"]:
            raise RuntimeError("refused")

    bridge = Bridge("amqp://unused", handoff, lambda rejected: pytest.fail("not poison"), lambda: 0)
    messages, frames = deliveries(["a", "b"])
    run_batch(bridge, messages)  # the batch fails, then each alone: each failed once
    fail["alone"] = False
    bridge._handoff = lambda items: asyncio.sleep(0)  # type: ignore[method-assign]  # billed in a batch
    billed, _ = deliveries(["a", "b"])
    run_batch(bridge, billed)
    del bridge._handoff  # the bridge's own hand-off again
    fail["alone"] = True
    copies, copy_frames = deliveries(["a", "b"])
    run_batch(bridge, copies)  # failing again: a first failure each, put back, not poison
    assert sorted(copy_frames) == [("nack", 1, True), ("nack", 2, True)]
