"""Acknowledging handed-off batches with as few frames as AMQP allows.

Acknowledged one by one, a batch of 200 Kazoo events cost the bridge 200 frames, 200 socket
writes and 200 timed waits: about a fifth of its CPU. `basic.ack` with `multiple` set
acknowledges every unsettled delivery of the channel up to a tag, so it may stand only for
deliveries that are all handed off: one of a batch still in flight would be acknowledged before
it was handed off, and lost if the node died.

The window keeps, per channel, the delivery tags taken and not yet settled, and which of them are
handed off. A batch done while an older one is still in flight is held (with six call batches in
flight, most finish out of order: acknowledged one by one, they were a third of the frames and a
seventh of the bridge's CPU) and goes out in the same frame as the older one once that is done.
What is held is counted by the broker against the bridge's prefetch, so the bridge lets go of
it, message by message, before it would stop the deliveries (`release_held`).

A channel the broker closed takes its deliveries with it (they are redelivered on a new channel,
with new tags), so the window is per channel object, and a closed channel's entry is let go when
a new channel delivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError

Message = AbstractIncomingMessage


class AckWindow:
    def __init__(self) -> None:
        self._unsettled: dict[Any, set[int]] = {}  # channel -> delivery tags taken, not settled
        # Each unsettled message's channel, as it was when taken: a closed channel's messages
        # no longer give theirs (aio-pika raises).
        self._channel_of: dict[int, Any] = {}
        self._held: dict[Any, dict[int, Message]] = {}  # channel -> handed off, waiting for an older one

    def taken(self, message: Message) -> None:
        # An entry left under this object's id by an older message (one whose settle timed out,
        # since collected) must not give this one its channel.
        self._channel_of.pop(id(message), None)
        try:
            channel = message.channel
        except ChannelInvalidStateError:
            return  # closed already: its deliveries are the broker's again
        if message.delivery_tag is None:
            return
        if channel not in self._unsettled:  # a new channel: the closed ones are let go
            for closed in [known for known in self._unsettled if known.is_closed]:
                self._forget(closed)
        self._unsettled.setdefault(channel, set()).add(message.delivery_tag)
        self._channel_of[id(message)] = channel

    def settled(self, messages: Sequence[Message]) -> None:
        for message in messages:
            channel = self._channel_of.pop(id(message), None)
            tags = self._unsettled.get(channel)
            if tags is not None:
                tags.discard(message.delivery_tag)
            held = self._held.get(channel)
            if held is not None and held.get(message.delivery_tag) is message:  # type: ignore[arg-type]
                del held[message.delivery_tag]  # type: ignore[arg-type]

    def _forget(self, channel: Any) -> None:
        del self._unsettled[channel]
        self._held.pop(channel, None)
        self._channel_of = {key: known for key, known in self._channel_of.items() if known is not channel}

    def handed_off(self, messages: Sequence[Message]) -> list[Message]:
        """Marks a batch handed off, to be acknowledged by `acknowledgeable`. Returns those the
        window cannot hold (never taken, or their channel closed): to be settled one by one."""
        alone = []
        for message in messages:
            channel = self._channel_of.get(id(message))
            if channel is None or channel.is_closed:
                alone.append(message)
            else:
                assert message.delivery_tag is not None  # taken: it has one
                self._held.setdefault(channel, {})[message.delivery_tag] = message
        return alone

    def acknowledgeable(self) -> list[tuple[Message, list[Message]]]:
        """For each channel whose oldest unsettled deliveries are all handed off: the newest of
        them, to acknowledge with `multiple`, and all of them. They count as settled from now
        on (a frame that does not go out means a channel gone: the broker takes them back)."""
        ready = []
        for channel, held in self._held.items():
            unsettled = self._unsettled[channel]
            if not held or channel.is_closed or min(unsettled) not in held:
                continue  # (asked after every message settled alone: no sort while the oldest is out)
            covered = []
            for tag in sorted(unsettled):
                message = held.get(tag)
                if message is None:
                    break
                covered.append(message)
            if covered:
                ready.append((covered[-1], covered))
        for _, covered in ready:
            self.settled(covered)
        return ready

    def held(self) -> int:
        return sum(len(held) for held in self._held.values())

    def release_held(self) -> list[Message]:
        """Every held message, no longer held: the bridge acknowledges them one by one (before
        holding more would stop the broker's deliveries, and when it stops)."""
        released = [message for held in self._held.values() for message in held.values()]
        self._held = {}
        return released
