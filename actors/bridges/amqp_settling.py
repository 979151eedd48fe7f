"""Settling AMQP deliveries and the channel's limits, as the batching bridges do it: an ack or a
requeue that never stops a bridge whose channel went away, a consumer cancelled within a bound."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError

log = logging.getLogger("kazbill.bridge.amqp")

# What settling a message on a channel the broker closed raises (a broker restarting, a
# connection lost): aio-pika's AMQP errors, aiormq's invalid channel state (a RuntimeError), a
# socket error.
SETTLE_ERRORS: tuple[type[Exception], ...] = (AMQPError, ChannelInvalidStateError, ConnectionError, TimeoutError)
SETTLE_TIMEOUT_S = 5.0  # a broker that does not take an ack within this is taken to be gone


async def cancel_consumer(queue: Any, tag: str) -> None:
    with contextlib.suppress(*SETTLE_ERRORS):  # a dead channel has no consumer left
        await asyncio.wait_for(queue.cancel(tag), SETTLE_TIMEOUT_S)


async def hold_at_most(channel: Any, wanted: int, held: int, *, tolerant: bool = False) -> int:
    """Unacknowledged messages are what the broker lets the bridge hold (`_prefetch`), so that a
    slow consumer does not sit on more (nor take longer to drain when told to stop) than it bills
    in a few seconds. The channel's limit (global):
    RabbitMQ applies a consumer's own limit only to consumers started after it is set.

    `tolerant`: a change of the limit while consuming. A channel that is reconnecting would hold
    the bridge here (a robust channel waits to be ready, with no bound), deaf to a stop: on a
    closed channel the limit is left as it was (the channel puts back the last one it was
    given when it reopens); a change that gets no answer in time leaves the limit unknown (0:
    aiormq closes a channel whose answer timed out, and it may reopen with either), so the next
    batch sets it again."""
    if wanted == held:
        return held
    if not tolerant:
        await channel.set_qos(prefetch_count=wanted, global_=True)
        return wanted
    if channel.is_closed:
        return held
    try:
        await asyncio.wait_for(channel.set_qos(prefetch_count=wanted, global_=True), SETTLE_TIMEOUT_S)
    except SETTLE_ERRORS as error:
        log.info("prefetch not changed to %d (%s): set again at the next batch", wanted, error)
        return 0
    return wanted


def channel_closed(message: AbstractIncomingMessage) -> bool:
    try:
        return bool(message.channel.is_closed)
    except ChannelInvalidStateError:  # aio-pika's word for a closed channel
        return True


async def settle(message: AbstractIncomingMessage, *, ack: bool) -> bool:
    """Ack, or nack to requeue; True when it went out. On a channel that is gone, nothing: the broker puts back every
    message a closed channel had not acknowledged, so it is redelivered (and billed again at no
    cost: every handler is idempotent). Letting the error through would stop the bridge while
    its robust connection is reconnecting, and with batches in flight a broker restart nearly
    always finds one being acknowledged (a bridge stopped for good in a clean-clone run)."""
    try:
        await asyncio.wait_for(message.ack() if ack else message.nack(requeue=True), SETTLE_TIMEOUT_S)
    except SETTLE_ERRORS as error:
        log.warning("message not %s (%s): the broker redelivers it", "acknowledged" if ack else "requeued", error)
        return False
    return True
