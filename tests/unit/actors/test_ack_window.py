"""Which deliveries the bridge may acknowledge with one `multiple` frame (actors/bridges/ack_window.py):
only the oldest unsettled deliveries of a channel, all handed off; a batch done before an older
one is held for the older one's frame."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

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


def acked(ready) -> list[tuple[int, list[int]]]:
    """(the tag acknowledged with `multiple`, the tags that frame settles), per frame."""
    return [(newest.delivery_tag, [message.delivery_tag for message in covered]) for newest, covered in ready]


def test_the_oldest_batch_is_acknowledged_by_its_newest_message():
    window, channel = AckWindow(), Channel()
    first, second = taken(window, channel, range(1, 6)), taken(window, channel, range(6, 11))
    assert window.handed_off(first) == []
    assert acked(window.acknowledgeable()) == [(5, [1, 2, 3, 4, 5])]
    assert window.acknowledgeable() == []  # settled: never acknowledged twice
    window.handed_off(second)
    assert acked(window.acknowledgeable()) == [(10, list(range(6, 11)))]


def test_a_batch_done_before_an_older_one_is_held_and_goes_out_in_the_older_ones_frame():
    window, channel = AckWindow(), Channel()
    first, second, third = (taken(window, channel, range(n, n + 5)) for n in (1, 6, 11))
    window.handed_off(third)
    window.handed_off(second)
    assert window.acknowledgeable() == [] and window.held() == 10  # the first is still being billed
    window.handed_off(first)
    assert acked(window.acknowledgeable()) == [(15, list(range(1, 16)))]
    assert window.held() == 0


def test_a_frame_stops_at_the_first_delivery_not_handed_off():
    window, channel = AckWindow(), Channel()
    first, second, third = (taken(window, channel, range(n, n + 5)) for n in (1, 6, 11))
    window.handed_off(first)
    window.handed_off(third)
    assert acked(window.acknowledgeable()) == [(5, [1, 2, 3, 4, 5])]  # not past the second
    assert window.held() == 5
    window.handed_off(second)
    assert acked(window.acknowledgeable()) == [(15, list(range(6, 16)))]


def test_a_message_settled_alone_before_the_batch_no_longer_holds_it_back():
    window, channel = AckWindow(), Channel()
    rejected, batch = taken(window, channel, range(1, 2)), taken(window, channel, range(2, 6))
    window.handed_off(batch)
    assert window.acknowledgeable() == []
    window.settled(rejected)  # acknowledged on its own (stored as poison)
    assert acked(window.acknowledgeable()) == [(5, [2, 3, 4, 5])]


def test_what_is_released_is_no_longer_held_and_still_holds_back_later_frames_until_settled():
    window, channel = AckWindow(), Channel()
    first, second, third = (taken(window, channel, range(n, n + 5)) for n in (1, 6, 11))
    window.handed_off(second)
    assert window.release_held() == second and window.held() == 0
    window.handed_off(first)
    window.handed_off(third)
    assert acked(window.acknowledgeable()) == [(5, [1, 2, 3, 4, 5])]  # the released are acknowledged alone
    window.settled(second)
    assert acked(window.acknowledgeable()) == [(15, list(range(11, 16)))]


def test_a_closed_channel_or_a_message_never_taken_is_acknowledged_one_by_one():
    window, old, new = AckWindow(), Channel(), Channel()
    before = taken(window, old, range(1, 4))
    old.is_closed = True
    after = taken(window, new, range(1, 4))  # tags start again on a new channel
    assert window.handed_off(before) == before
    stranger = Message(9, new)
    assert window.handed_off([*after, stranger]) == [stranger]
    assert acked(window.acknowledgeable()) == [(3, [1, 2, 3])]  # not held back by the old


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
    bridge._window.handed_off(later)
    assert bridge._window.acknowledgeable() == []  # held, never acknowledged past it


class Recorded(Message):
    """A delivery whose acknowledgements are written down, as frames: ("ack", tag, multiple)."""

    frames: list = []

    async def ack(self, multiple: bool = False):
        Recorded.frames.append(("ack", self.delivery_tag, multiple))

    async def nack(self, requeue: bool = True):
        Recorded.frames.append(("nack", self.delivery_tag, False))


def test_the_bridge_lets_go_of_held_batches_one_by_one_before_they_would_stop_the_deliveries():
    """The broker counts what is held against the prefetch (twice the batches in flight): past
    one in-flight's worth held behind a slow batch, the bridge acknowledges them one by one, and
    the slow batch then goes out in a frame of its own."""
    import asyncio

    from actors.bridges.amqp_batches import BatchingBridge
    from actors.bridges.batch_sizing import BatchSizing

    bridge = BatchingBridge(
        "amqp://unused", lambda items: None, lambda rejected: None, lambda: 0, sizing=BatchSizing.fixed(5)
    )
    channel = Channel()
    Recorded.frames = []
    slow, second, third = ([Recorded(tag, channel) for tag in range(n, n + 5)] for n in (1, 6, 11))
    for message in [*slow, *second, *third]:
        bridge._window.taken(message)

    asyncio.run(bridge._settle_batch(second))
    assert Recorded.frames == [] and bridge._window.held() == 5  # held: within one batch in flight
    asyncio.run(bridge._settle_batch(third))
    assert Recorded.frames == [("ack", tag, False) for tag in range(6, 16)]  # past it: one by one
    asyncio.run(bridge._settle_batch(slow))
    assert Recorded.frames[10:] == [("ack", 5, True)]
    assert bridge._prefetch() == 2 * 5 * bridge.in_flight


@settings(max_examples=300)
@given(st.data())
def test_no_frame_ever_acknowledges_a_delivery_not_handed_off_and_each_is_settled_once(data):
    """Whatever order batches are handed off, settled alone (poison, a requeue) or released in:
    a `multiple` frame covers exactly the unsettled deliveries up to its tag, all handed off;
    nothing is acknowledged twice; once everything is done nothing is left held."""
    window, channel = AckWindow(), Channel()
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=8))
    batches, tag = [], 1
    for size in sizes:
        batches.append(taken(window, channel, range(tag, tag + size)))
        tag += size
    handed: set[int] = set()
    settled: list[int] = []

    def settle_alone(messages):
        window.settled(messages)
        settled.extend(message.delivery_tag for message in messages)

    def frames():
        for newest, covered in window.acknowledgeable():
            tags = [message.delivery_tag for message in covered]
            unsettled_below = {t for t in range(1, newest.delivery_tag + 1) if t not in settled}
            assert set(tags) == unsettled_below and set(tags) <= handed
            settled.extend(tags)

    for batch in data.draw(st.permutations(batches)):
        how = data.draw(st.sampled_from(["handed off", "handed off", "settled alone"]))
        if how == "settled alone":
            settle_alone(batch)
        else:
            handed.update(message.delivery_tag for message in batch)
            assert window.handed_off(batch) == []
        frames()
        if data.draw(st.booleans()):
            settle_alone(window.release_held())
            frames()
    assert sorted(settled) == list(range(1, tag))  # each delivery settled, once
    assert window.held() == 0 and window.acknowledgeable() == []


def test_a_delivery_of_a_closed_channel_never_takes_the_channel_an_older_message_left_under_its_id():
    """An entry left by a message whose settle timed out (collected since) must not give a new
    message object at the same address its live channel: the new one, of a closed channel, is
    settled alone, never covered by the live channel's `multiple` frame."""
    from aiormq.exceptions import ChannelInvalidStateError

    class Reused(Message):
        closed = False

        def __getattribute__(self, name):
            if name == "channel" and object.__getattribute__(self, "closed"):
                raise ChannelInvalidStateError("closed")
            return object.__getattribute__(self, name)

    window, live = AckWindow(), Channel()
    message = Reused(7, live)
    window.taken(message)  # its settle then timed out: the entry stays
    message.closed, message.delivery_tag = True, 3  # the same address, now a delivery of a closed channel
    window.taken(message)
    assert window.handed_off([message]) == [message]
