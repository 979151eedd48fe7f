"""The calls bridge alone, on the real RabbitMQ: N calls (the carrier's leg and the phone's, as
ecallmgr publishes them) waiting in its queue, handed off to a stand-in for the shards that
answers each batch after a random 0 to --answer-s seconds, so that batches finish out of order as
they do with two shards billing them. Prints events/s beside a raw RabbitMQ consume + ack in the
same run, the bridge's CPU per 1,000 events and the acknowledgement frames it sent. What it
measures is the bridge's own cost (parsing, batching, acknowledging), without the shards'.
Asserts nothing about time.

    .venv/bin/python -m bench.call_bridge [--calls 20000] [--answer-s 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import time
import uuid

import aio_pika.message

from actors.bridges.amqp_calls import CallBridge
from actors.bridges.run import CALL_BATCHES_IN_FLIGHT
from bench.events import raw_consume_rate
from bench.record import record
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support.bus import AMQP_URL, ENDED, channel_destroy, publish_calls, queue_depth_then_delete

FRAMES: collections.Counter[str] = collections.Counter()
_acknowledge = aio_pika.message.IncomingMessage.ack


def _counted_ack(self, multiple: bool = False):
    FRAMES["multiple" if multiple else "one"] += 1
    return _acknowledge(self, multiple=multiple)


async def drain(calls: int, answer_s: float) -> tuple[float, float, int]:
    """(events/s, CPU seconds per 1,000 events, what was left in the queue)."""
    accounts = [new_account_id() for _ in range(100)]
    handed = 0
    done = asyncio.Event()

    async def shards(items) -> None:
        nonlocal handed
        await asyncio.sleep(random.random() * answer_s)
        handed += len(items)
        if handed >= calls:
            done.set()

    bridge = CallBridge(
        AMQP_URL,
        shards,
        lambda rejected: print("rejected:", rejected),
        lambda: ENDED,
        queue_name=f"kazbill.bench.bridge.{uuid.uuid4().hex[:8]}",
        in_flight=CALL_BATCHES_IN_FLIGHT,
    )
    stop = asyncio.Event()
    first = asyncio.create_task(bridge.run(stop))  # declares and binds its queue, then stops
    await asyncio.sleep(1.0)
    stop.set()
    await first
    legs = []
    for n in range(calls):
        account, call_id = accounts[n % len(accounts)], uuid.uuid4().hex
        legs += [channel_destroy(account, call_id), channel_destroy(account, call_id, leg="phone")]
    await publish_calls(legs)
    stop = asyncio.Event()
    cpu, started = time.process_time(), time.perf_counter()
    running = asyncio.create_task(bridge.run(stop))
    await asyncio.wait_for(done.wait(), 600)
    cpu, elapsed = time.process_time() - cpu, time.perf_counter() - started
    stop.set()
    await running
    left = await queue_depth_then_delete(bridge.queue_name)
    return len(legs) / elapsed, 1000 * cpu / len(legs), left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--answer-s", type=float, default=1.0, help="the stand-in shards answer within this")
    args = parser.parse_args()
    raw = asyncio.run(raw_consume_rate(2 * args.calls))
    aio_pika.message.IncomingMessage.ack = _counted_ack  # type: ignore[method-assign]
    rate, cpu, left = asyncio.run(drain(args.calls, args.answer_s))
    print(
        f"calls bridge alone: {args.calls} calls ({2 * args.calls} events with the phones' legs), "
        f"batches answered within {args.answer_s} s"
    )
    print(f"raw RabbitMQ consume+ack (reference): {raw:,.0f} msg/s")
    print(
        f"bridge: {rate:,.0f} events/s (ratio to raw consume {rate / raw:.3f}), CPU {cpu:.3f} s per 1,000 events, "
        f"acknowledgement frames: {FRAMES['multiple']} multiple, {FRAMES['one']} one by one; left in the queue: {left}"
    )
    record("call_bridge.raw_rabbitmq_consume", raw, "msg/s", store="RabbitMQ")
    record("call_bridge.events", rate, "events/s", reference="call_bridge.raw_rabbitmq_consume", store="RabbitMQ")
    record("call_bridge.cpu_per_1000_events", cpu, "s", higher_is_better=False, store="RabbitMQ")


if __name__ == "__main__":
    main()
