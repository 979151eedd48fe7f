"""Which batches the bridge may acknowledge with one `multiple` frame (actors/bridges/ack_window.py):
only a batch holding every unsettled delivery of its channel up to its newest one."""

from __future__ import annotations

from dataclasses import dataclass

from actors.bridges.ack_window import AckWindow


@dataclass(eq=False)
class Channel:
    is_closed: bool = False


@dataclass(eq=False)
class Message:
    delivery_tag: int
    channel: Channel


def taken(window: AckWindow, channel: Channel, tags: range) -> list[Message]:
    messages = [Message(tag, channel) for tag in tags]
    for message in messages:
        window.taken(message)
    return messages


def test_the_oldest_batch_is_acknowledged_by_its_newest_message():
    window, channel = AckWindow(), Channel()
    first, second = taken(window, channel, range(1, 6)), taken(window, channel, range(6, 11))
    assert window.newest_if_oldest(first) is first[-1]
    assert window.newest_if_oldest(second) is None  # the first is still unsettled
    window.settled(first)
    assert window.newest_if_oldest(second) is second[-1]


def test_a_message_settled_alone_before_the_batch_no_longer_holds_it_back():
    window, channel = AckWindow(), Channel()
    rejected, batch = taken(window, channel, range(1, 2)), taken(window, channel, range(2, 6))
    assert window.newest_if_oldest(batch) is None
    window.settled(rejected)  # acknowledged on its own (stored as poison)
    assert window.newest_if_oldest(batch) is batch[-1]


def test_a_closed_channel_or_a_batch_across_channels_is_acknowledged_one_by_one():
    window, old, new = AckWindow(), Channel(), Channel()
    before = taken(window, old, range(1, 4))
    old.is_closed = True
    after = taken(window, new, range(1, 4))  # tags start again on a new channel
    assert window.newest_if_oldest(before) is None
    assert window.newest_if_oldest(after) is after[-1]  # not held back by the old
    assert window.newest_if_oldest(before[:1] + after) is None
    assert window.newest_if_oldest([Message(9, new)]) is None  # never taken


def test_a_requeue_that_did_not_go_out_on_a_live_channel_holds_back_every_later_one_frame_ack():
    """A nack that timed out leaves the message the broker's and unsettled: a later batch's
    `multiple` ack would take it along, acknowledged though it was never billed."""
    import asyncio

    from actors.bridges.amqp_batches import BatchingBridge

    class Stuck(Message):
        async def nack(self, requeue: bool = True):
            raise TimeoutError("the channel's write buffer is full")

        async def ack(self, multiple: bool = False):
            return None

    bridge = BatchingBridge("amqp://unused", lambda items: None, lambda rejected: None, lambda: 0)
    channel = Channel()
    stuck, later = Stuck(1, channel), [Message(tag, channel) for tag in range(2, 5)]
    for message in [stuck, *later]:
        bridge._window.taken(message)
    asyncio.run(bridge._settle(stuck, ack=False))
    assert bridge._window.newest_if_oldest(later) is None  # acknowledged one by one, not past it
