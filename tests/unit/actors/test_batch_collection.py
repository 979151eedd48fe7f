"""When a bridge's batch is complete (actors/bridges/batch_collection.py): messages already
there fill it to its size, a lone message goes once the queue is quiet instead of at the end of
the window, an idle bridge comes round to look at its stop, and what came while the timer was
late goes with the batch. Real asyncio queues and timers; the broker's part is in
tests/integration/test_amqp_batches_in_flight.py."""

from __future__ import annotations

import asyncio

import pytest

from actors.bridges import batch_collection
from actors.bridges.amqp_config import ConfigBridge
from actors.bridges.batch_collection import collect_batch

WINDOW_S = 600.0  # a window no test waits out: each is bounded at 30 s below


def collected(queue: asyncio.Queue, size: int = 5, quiet_s: float = 0.03) -> list[int]:
    pending: list[int] = []
    taken: list[int] = []

    async def run() -> None:
        await asyncio.wait_for(
            collect_batch(queue, pending, size, batch_wait_s=WINDOW_S, quiet_s=quiet_s, taken=taken.append), 30
        )

    asyncio.run(run())
    assert taken == pending  # each message told to the acknowledgement window as it is taken
    return pending


def filled(*messages: int) -> asyncio.Queue:
    queue: asyncio.Queue = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)
    return queue


def test_messages_already_there_fill_the_batch_to_its_size_and_the_rest_wait():
    queue = filled(*range(12))
    assert collected(queue) == [0, 1, 2, 3, 4]
    assert queue.qsize() == 7


def test_a_lone_message_goes_once_the_queue_is_quiet_not_at_the_end_of_the_window():
    assert collected(filled(7)) == [7]


def test_an_idle_bridge_comes_round_with_nothing(monkeypatch):
    monkeypatch.setattr(batch_collection, "IDLE_LOOK_S", 0.05)
    assert collected(filled()) == []


def test_what_came_while_the_timer_was_late_goes_with_the_batch(monkeypatch):
    """The loop held up past the quiet gap (another consumer parsing its batch on the same loop):
    the timer fires though messages came meanwhile; they are taken, not left for a batch of their
    own. (asyncio orders a woken reader before a late timer whenever it can, so the late timer is
    played here.)"""
    queue, pending = filled(1), []
    real_wait_for, waits = asyncio.wait_for, []

    async def timer_late_the_second_time(awaitable, timeout):
        waits.append(timeout)
        if len(waits) == 1:
            return await real_wait_for(awaitable, timeout)
        awaitable.close()  # (the read that was never scheduled)
        queue.put_nowait(2)
        queue.put_nowait(3)
        raise TimeoutError

    monkeypatch.setattr(asyncio, "wait_for", timer_late_the_second_time)
    asyncio.run(collect_batch(queue, pending, 5, batch_wait_s=WINDOW_S, quiet_s=0.03))
    assert pending == [1, 2, 3] and len(waits) == 2


@pytest.mark.parametrize("setting", ["batch_wait_s", "quiet_s"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_a_bridge_refuses_a_wait_that_is_not_positive(setting, value):
    with pytest.raises(ValueError, match=setting):
        ConfigBridge("amqp://unused", lambda items: None, lambda rejected: None, lambda: 0, **{setting: value})
