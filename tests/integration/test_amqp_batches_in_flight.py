"""Several batches in flight (actors/bridges/amqp_batches.py, `in_flight`), on the real RabbitMQ:
while one batch is being billed the next is collected and handed off, every message is still
acknowledged only once its own batch is done, and a batch that fails comes back whole while the
others go through."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import aio_pika
import pytest

from actors.bridges.amqp_config import ConfigBridge
from actors.bridges.batch_sizing import BatchSizing
from actors.hand_off import HandOffUnavailable
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support.broker import drop_every_connection, queue_counts
from testkit.support.bus import AMQP_URL, EXCHANGE, change, publish, queue_depth_then_delete, until_consuming

pytestmark = pytest.mark.integration
NOW = 63_960_710_400


def bridge_with(handoff, in_flight: int, batch_wait_s: float = 0.05) -> ConfigBridge:
    """`batch_wait_s`: how long a batch waits to fill, however long the gaps between its messages;
    a test that counts batch sizes waits long, so that a loaded machine's slow publishing cannot
    cut a batch short."""
    return ConfigBridge(
        AMQP_URL,
        handoff,
        lambda rejected: pytest.fail(f"nothing here is poison: {rejected}"),
        lambda: NOW,
        queue_name=f"kazbill.test.{uuid.uuid4().hex[:8]}",
        sizing=BatchSizing.fixed(5),
        batch_wait_s=batch_wait_s,
        quiet_s=batch_wait_s,
        unavailable_pause_s=0.2,
        in_flight=in_flight,
    )


async def run_until(bridge: ConfigBridge, messages, done: asyncio.Event) -> int:
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    await until_consuming(bridge.queue_name)  # declared and bound
    await publish(messages)
    await asyncio.wait_for(done.wait(), 60)
    stop.set()
    await asyncio.wait_for(task, 30)
    return await queue_depth_then_delete(bridge.queue_name)


def device_events(account: str, count: int):
    return [change("doc_created", account, "device", f"device{n:026d}") for n in range(count)]


def test_a_lone_change_goes_once_the_queue_is_quiet_not_when_the_window_ends():
    """A batch is cut once no message came for `quiet_s`: with a window of ten minutes, a lone
    change is handed off long before it ends (run_until waits a minute at most)."""
    account, handed = new_account_id(), []

    async def scenario() -> int:
        done = asyncio.Event()

        async def handoff(batch):
            handed.extend(change.doc_id for change in batch)
            done.set()

        bridge = dataclasses.replace(bridge_with(handoff, in_flight=1), batch_wait_s=600.0, quiet_s=0.05)
        return await run_until(bridge, device_events(account, 1), done)

    assert asyncio.run(scenario()) == 0
    assert handed == [f"device{0:026d}"]


async def queue_depth(name: str) -> int:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        return (await channel.declare_queue(name, durable=True, passive=True)).declaration_result.message_count


async def wait_until(read, holds, timeout_s: float = 30.0):
    """The last value read; read again until `holds` or the timeout (then the test's asserts say
    what differs)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not holds(value := await read()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return value


def test_a_bridge_told_to_stop_stops_while_kazoo_keeps_publishing_and_loses_nothing():
    """On a stop the bridge stops taking deliveries, bills what it was handed, and leaves the rest
    in the queue for the next node. It used to go on while anything was still arriving, so a
    cluster that never went quiet kept `kazbill serve` from stopping."""
    account, handed = new_account_id(), []

    async def scenario() -> tuple[int, int]:
        enough = asyncio.Event()

        async def handoff(batch):
            await asyncio.sleep(0.05)  # billing slower than Kazoo publishes: the queue never empties
            handed.extend(change.doc_id for change in batch)
            if len(handed) >= 20:
                enough.set()

        # Two in flight: the prefetch (twice what is in flight) keeps a batch or more waiting
        # behind them, refilled as each is acknowledged.
        bridge = bridge_with(handoff, in_flight=2)
        stop, published, publishing = asyncio.Event(), 0, True
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel()  # (publisher confirms: counted once routed)
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)

            async def kazoo_publishing() -> None:
                nonlocal published
                while publishing:
                    key, body = change("doc_created", account, "device", f"device{published:026d}")
                    await exchange.publish(aio_pika.Message(body, content_type="application/json"), routing_key=key)
                    published += 1
                    await asyncio.sleep(0.002)

            publisher = asyncio.create_task(kazoo_publishing())
            try:
                await asyncio.wait_for(enough.wait(), 60)
                stop.set()
                await asyncio.wait_for(task, 60)  # a failure here: the bridge never stopped
            finally:
                publishing = False
                await publisher  # its last message counted, not cut off halfway
        # What the stopped bridge held unacknowledged goes back to the queue as its channel closes.
        await wait_until(lambda: queue_depth(bridge.queue_name), lambda depth: len(handed) + depth == published)
        return published, await queue_depth_then_delete(bridge.queue_name)

    published, left = asyncio.run(scenario())
    assert len(handed) == len(set(handed))  # none twice
    assert len(handed) + left == published  # none lost: billed, or in the queue for the next node
    assert left > 0  # (it did stop with Kazoo still publishing)


def test_a_bridge_told_to_stop_during_an_outage_leaves_what_it_holds_to_the_broker():
    """Stopped while the shards are unavailable, the bridge does not offer each batch it holds
    once more (a refusal and a pause each); everything goes back to the queue, nothing lost."""
    account, attempts = new_account_id(), []

    async def scenario() -> int:
        refused = asyncio.Event()

        async def handoff(batch):
            attempts.append(len(batch))
            refused.set()
            raise HandOffUnavailable("the shards are restarting")

        bridge = bridge_with(handoff, in_flight=3)  # 5 a batch: it holds up to 30
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)
        await publish([change("doc_created", account, "device", f"device{n:026d}") for n in range(40)])
        await asyncio.wait_for(refused.wait(), 30)
        await asyncio.sleep(0.3)  # the prefetch fills meanwhile
        stop.set()
        before_stop = len(attempts)
        await asyncio.wait_for(task, 30)
        assert len(attempts) <= before_stop + 3  # at most the batches already in flight
        await wait_until(lambda: queue_depth(bridge.queue_name), lambda depth: depth == 40)
        return await queue_depth_then_delete(bridge.queue_name)

    assert asyncio.run(scenario()) == 40


def test_the_next_batch_is_handed_off_while_the_first_is_still_being_billed():
    account, steps = new_account_id(), []

    async def scenario() -> int:
        second_started, done = asyncio.Event(), asyncio.Event()
        handed: list = []

        async def handoff(batch):
            number = sum(1 for step in steps if step.startswith("start")) + 1
            steps.append(f"start {number}")
            if number == 1:
                try:  # the first batch is "billed" until the second one arrives (or not, alone)
                    await asyncio.wait_for(second_started.wait(), 10)
                except TimeoutError:
                    steps.append("first gave up waiting")
            else:
                second_started.set()
            handed.extend(batch)
            steps.append(f"end {number}")
            if len(handed) >= 10:
                done.set()

        return await run_until(bridge_with(handoff, in_flight=2), device_events(account, 10), done)

    depth = asyncio.run(scenario())
    assert steps[:3] == ["start 1", "start 2", "end 2"], steps  # the second went through meanwhile
    assert "first gave up waiting" not in steps
    assert depth == 0  # every message acknowledged once its batch was done


def test_with_one_in_flight_the_next_batch_waits_for_the_first():
    account, steps = new_account_id(), []

    async def scenario() -> int:
        done = asyncio.Event()
        handed: list = []

        async def handoff(batch):
            steps.append("start")
            await asyncio.sleep(0.3)
            handed.extend(batch)
            steps.append("end")
            if len(handed) >= 10:
                done.set()

        return await run_until(bridge_with(handoff, in_flight=1), device_events(account, 10), done)

    depth = asyncio.run(scenario())
    assert steps == ["start", "end"] * (len(steps) // 2) and depth == 0


def unacknowledged(queue: str) -> int | None:
    """What the broker counts as delivered and not yet acknowledged on `queue`."""
    counts = queue_counts([queue], "messages_unacknowledged").get(queue)
    return counts[0] if counts else None


def test_batches_done_before_an_older_one_wait_for_it_and_all_go_out_in_its_frame():
    """A `multiple` ack may stand only for deliveries all handed off (ack_window.py): the batches
    done after the first, while it is still being billed, must not take it with them, or a node
    dying now would lose its events. They are held, unacknowledged, and the first one's frame
    acknowledges them all once it is done."""
    account = new_account_id()
    counts: list[int | None] = []
    first: list = []

    async def scenario() -> int:
        done, release = asyncio.Event(), asyncio.Event()
        handed: list = []

        async def handoff(batch):
            if not first:
                first.extend(batch)
                await asyncio.wait_for(release.wait(), 60)
            handed.extend(batch)
            if len(handed) >= 10:
                done.set()

        bridge = bridge_with(handoff, in_flight=2)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)  # declared and bound
        await publish(device_events(account, 10))
        for _ in range(60):  # until every other batch is handed off
            if first and len(handed) == 10 - len(first):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # what would have been acknowledged has reached the broker
        counts.append(await asyncio.to_thread(unacknowledged, bridge.queue_name))
        release.set()
        await asyncio.wait_for(done.wait(), 60)
        for _ in range(20):
            counts.append(await asyncio.to_thread(unacknowledged, bridge.queue_name))
            if counts[-1] == 0:
                break
            await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 30)
        return await queue_depth_then_delete(bridge.queue_name)

    depth = asyncio.run(scenario())
    assert first and len(first) < 10, first
    assert counts[0] == 10, counts  # the first being billed, the others held behind it
    assert counts[-1] == 0 and depth == 0, counts  # then all of them (in one frame: test_ack_window)


def test_a_batch_that_could_not_be_handed_off_comes_back_whole_while_the_others_go_through():
    account = new_account_id()
    events = device_events(account, 15)
    handed: list = []
    refused: list = []

    async def scenario() -> int:
        done = asyncio.Event()

        async def handoff(batch):
            if not refused:
                refused.extend(batch)  # the shards were unreachable for this one batch
                raise HandOffUnavailable("the actor system is restarting")
            handed.extend(batch)
            if {change.doc_id for change in handed} >= {f"device{n:026d}" for n in range(15)}:
                done.set()

        return await run_until(bridge_with(handoff, in_flight=3), events, done)

    depth = asyncio.run(scenario())
    assert refused, "one batch was refused"
    assert {change.doc_id for change in refused} <= {change.doc_id for change in handed}  # delivered again
    assert len({change.doc_id for change in handed}) == 15 and depth == 0


def test_batches_grow_while_answered_fast_and_start_small_again_after_a_failing_one():
    """The size follows the shards' answers (batch_sizing.py): twofold a batch while answered at
    once, past the first prefetch (the broker is told to let the bridge hold more), and back to
    the smallest after a batch failed and was handed off message by message."""
    account = new_account_id()
    sizes: list[int] = []
    handed: set[str] = set()

    async def scenario() -> int:
        done = asyncio.Event()

        async def handoff(batch):
            sizes.append(len(batch))
            if len(batch) >= 20 and "failed" not in handed:
                handed.add("failed")
                raise RuntimeError("a poison message somewhere in this batch")
            handed.update(change.doc_id for change in batch)
            if len(handed) > 120:
                done.set()

        bridge = dataclasses.replace(
            bridge_with(handoff, in_flight=1, batch_wait_s=2.0),
            sizing=BatchSizing(smallest=5, largest=40, answer_within_s=5.0),
        )
        return await run_until(bridge, device_events(account, 120), done)

    depth = asyncio.run(scenario())
    failing = next(n for n, size in enumerate(sizes) if size >= 20)
    assert sizes[:3] == [5, 10, 20] and failing == 2, sizes  # grown twofold up to the failing one
    one_by_one = sizes[failing + 1 : failing + 1 + sizes[failing]]
    assert one_by_one == [1] * sizes[failing], sizes  # then its messages alone
    assert sizes[failing + 1 + sizes[failing]] <= 5, sizes  # and the next batch from the smallest again
    assert depth == 0


OWN_NODE = "kazbill@test-node"


def own_announcement(account: str, doc_id: str) -> tuple[str, bytes]:
    """A device change as Kazbill announces its own writes: the bridge skips it."""
    key, body = change("doc_edited", account, "device", doc_id)
    return key, json.dumps({**json.loads(body), "Node": OWN_NODE}).encode()


def test_what_is_not_kazbills_business_is_acknowledged_with_its_batch_even_one_handed_back():
    """Events the bridge drops (Kazbill's own announcements, coming back on Kazoo's exchange)
    are acknowledged with the batch they came in, in its one frame, and also when the batch's
    hand-off is refused and its billable events go back to the queue: never handed off, never
    redelivered."""
    account = new_account_id()
    ignored = [own_announcement(account, f"phone{n:027d}") for n in range(6)]
    handed: list = []
    refusals = 0
    counts: list[int | None] = []

    async def scenario() -> int:
        nonlocal refusals
        done = asyncio.Event()

        async def handoff(batch):
            nonlocal refusals
            if refusals == 0:
                refusals += 1
                raise HandOffUnavailable("the actor system is restarting")
            handed.extend(batch)
            if len({change.doc_id for change in handed}) >= 6:
                done.set()

        bridge = dataclasses.replace(bridge_with(handoff, in_flight=2), own_node=OWN_NODE)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)  # declared and bound
        await publish([message for pair in zip(device_events(account, 6), ignored, strict=True) for message in pair])
        await asyncio.wait_for(done.wait(), 60)
        for _ in range(20):  # the broker has every acknowledgement (asked before the channel closes)
            counts.append(await asyncio.to_thread(unacknowledged, bridge.queue_name))
            if counts[-1] == 0:
                break
            await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 30)
        return await queue_depth_then_delete(bridge.queue_name)

    depth = asyncio.run(scenario())
    assert refusals == 1 and {change.doc_type for change in handed} == {"device"}
    assert counts[-1] == 0, counts  # nothing held unacknowledged: the announcements included
    assert depth == 0  # the refused devices came back and were billed; nothing waits


def test_batches_in_flight_when_the_broker_drops_the_connection_come_back_and_the_bridge_goes_on():
    """The broker closes every connection while two batches are being billed: their acks find
    the channel gone (the broker will redeliver them), the bridge's robust connection comes back,
    every message is handed off again, and the bridge still stops when asked. Before, the first
    failed ack stopped the bridge mid-reconnect, and it never consumed again (a clean-clone run of
    test_simulated_bus)."""
    account = new_account_id()
    events = device_events(account, 20)
    wanted = {f"device{n:026d}" for n in range(20)}
    handed: list = []
    dropped_with: set = set()  # the messages of the batches being billed when the broker dropped them

    async def scenario() -> int:
        done, two_billing, dropped = asyncio.Event(), asyncio.Event(), asyncio.Event()
        started = 0

        async def handoff(batch):
            nonlocal started
            started += 1
            if started <= 2:  # the first two batches are being billed when the broker drops them
                dropped_with.update(change.doc_id for change in batch)
                if started == 2:
                    two_billing.set()
                await asyncio.wait_for(dropped.wait(), 30)
            handed.extend(batch)
            again = [change.doc_id for change in handed if change.doc_id in dropped_with]
            if {change.doc_id for change in handed} >= wanted and len(again) >= 2 * len(dropped_with):
                done.set()  # everything billed, and what the broker took back billed once more

        bridge = bridge_with(handoff, in_flight=3, batch_wait_s=2.0)  # two batches of five, whole
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)  # declared and bound
        await publish(events)
        await asyncio.wait_for(two_billing.wait(), 30)
        await drop_every_connection("test: the broker drops its connections")
        dropped.set()
        await asyncio.wait_for(done.wait(), 90)  # redelivered after the robust connection came back
        stop.set()
        await asyncio.wait_for(task, 30)  # and it stops when asked
        return await queue_depth_then_delete(bridge.queue_name)

    depth = asyncio.run(scenario())
    assert len(dropped_with) == 10 and {change.doc_id for change in handed} >= wanted
    assert depth == 0  # the copies redelivered after the reconnection were acknowledged
