"""Kazoo document events from RabbitMQ to written ledger entries, through a real `kazbill serve`
(AMQP bridge, actor system on multiprocTCPBase, shards). Prints figures; asserts nothing.

1. the reference: the same RabbitMQ's raw consume + ack rate for the same number of messages;
2. throughput: N doc_created events (new phones, spread over the accounts) waiting in the
   bridge's queue, as the reference's wait in its own (the bridge is stopped while they are
   published), timed from the bridge's resumption until every account's new charge is in the
   ledger;
3. the same as they are published, timed from the first publish: bounded by this one Python
   publisher (about 4,500 messages/s alone on this machine), printed beside it;
4. delay: single events one after another, publish → new entry visible, p50/p99.

    .venv/bin/python -m bench.events [--accounts 200] [--events 2000] [--probes 30] [--couch URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aio_pika

from bench.record import RequestMeter, record, store_key, store_name
from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import gregorian_now
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries
from testkit.support.bus import AMQP_URL, change, queue_depth_then_delete
from testkit.support.kazbill_service import (
    KazbillService,
    bridge_bound,
    bridge_queues,
    processes_mentioning,
    wait_for,
)
from testkit.support.stores import open_store

PROBE_POLL_S = 0.01  # how often a probe looks for its charge: the delay figures' resolution

MSK = ZoneInfo("Europe/Moscow")


async def raw_consume_rate(count: int) -> float:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=200)
        queue = await channel.declare_queue(f"kazbill.bench.raw.{uuid.uuid4().hex}", auto_delete=True)
        body = change("doc_created", "0" * 32, "device", "device1")[1]
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name
                )
                for _ in range(count)
            )
        )
        received = 0
        started = time.perf_counter()
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                received += 1
                if received == count:
                    break
        return count / (time.perf_counter() - started)


async def publish_all(events: list[tuple[str, bytes]]) -> None:
    # As the reference publishes, and as Kazoo does (no publisher confirms): with confirms this
    # one publisher manages about 3,400 messages/s, which would cap the figure, not Kazbill.
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        exchange = await channel.declare_exchange("configuration", aio_pika.ExchangeType.TOPIC, durable=False)
        for start in range(0, len(events), 500):
            await asyncio.gather(
                *(
                    exchange.publish(aio_pika.Message(body), routing_key=key)
                    for key, body in events[start : start + 500]
                )
            )


def add_phones(world: World, account_id: str, first: int, count: int, clock: FileClock) -> list[str]:
    """New phones, created at the service's (simulated) time: a phone dated after it would be
    refused as an untrusted timestamp and recorded as a failure, which is not what is timed."""
    ids = [f"device-bench-{n:06d}" for n in range(first, first + count)]
    created = gregorian_now(clock)
    world.store.bulk_put(
        account_db(account_id),
        [
            stamp({"_id": doc_id, "device_type": "sip_device", "enabled": True}, account_id, "device", created)
            for doc_id in ids
        ],
    )
    return ids


@contextmanager
def bridge_stopped(service: KazbillService) -> Iterator[None]:
    """The service's AMQP bridge stopped (SIGSTOP) for the block: what is published meanwhile
    waits in its queue, as the reference's messages wait in theirs before they are consumed."""
    pids = [
        pid
        for pid in processes_mentioning(str(service.clock_file))
        if b"bridge\0amqp" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    if not pids:
        raise SystemExit("the service's AMQP bridge was not found")
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def new_phones_events(world: World, customers: list[str], first: int, per_account: int, clock: FileClock) -> list:
    return [
        change("doc_created", c, "device", doc_id)
        for c in customers
        for doc_id in add_phones(world, c, first, per_account, clock)
    ]


def charged_watch(store, customers: list[str], entries: int):
    """A condition for wait_for: every account has `entries` entries. Accounts are read in turn,
    each until it is complete, so that a poll reads one account while the events are billed and
    watching costs the store (and the 2 cores) little beside what is timed."""
    pending = list(customers)

    def all_charged() -> bool:
        while pending and len(kazbill_entries(store, pending[0], [(2026, 3)])) == entries:
            pending.pop(0)
        return not pending

    return all_charged


@contextmanager
def serving_over_amqp(workdir: Path, couch: str | None, clock: FileClock) -> Iterator[KazbillService]:
    """`kazbill serve` with the AMQP bridge on a queue of its own (on CouchDB when `couch` is a
    URL), ready to consume; its process tree and its durable queues go when the block ends."""
    queue = f"kazbill.bench.{uuid.uuid4().hex}"
    env = {"KAZBILL_STORE_URL": couch} if couch else {"KAZBILL_STORE_PATH": str(workdir / "kazbill.sqlite3")}
    service = KazbillService(workdir, {**env, "KAZBILL_BRIDGES": "amqp", "KAZBILL_AMQP_QUEUE": queue}, Path(clock.path))
    try:
        service.start().wait_ready()
        wait_for(lambda: bridge_bound(service.log()), what="the bridge")
        # The start-up crawl bills every account the store holds, other benchmarks' too when
        # they share a CouchDB (500 accounts after `period_close`): timed alongside it, a
        # backlog drained at 23 events/s instead of ~400 and probes waited 10-19 s.
        wait_for(service.crawled, 1800, "the start-up crawl")
        yield service
    finally:
        service.cleanup()
        for name in bridge_queues(queue):
            asyncio.run(queue_depth_then_delete(name))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--couch", help="a CouchDB URL (default: the embedded store)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kazbill-bench-events-"))
    store = open_store("couchdb" if args.couch else "embedded", args.couch or "", workdir)
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customers = [
        world.customer(
            f"C{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
        )
        for n in range(args.accounts)
    ]
    clock = FileClock(str(workdir / f"clock-{uuid.uuid4().hex}"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    reference = asyncio.run(raw_consume_rate(args.events))
    with serving_over_amqp(workdir, args.couch, clock) as service:
        wait_for(lambda: all(kazbill_entries(store, c, [(2026, 3)]) for c in customers), 600, "the first crawl")
        per_account = max(1, args.events // len(customers))
        events = new_phones_events(world, customers, 0, per_account, clock)
        with bridge_stopped(service):
            asyncio.run(publish_all(events))
        meter = RequestMeter(args.couch, own=store)
        started = time.perf_counter()  # the bridge resumes as the block ends
        wait_for(charged_watch(store, customers, 2), 1200, "every account's new charge")
        throughput = len(events) / (time.perf_counter() - started)
        spent = meter.spent()

        live = new_phones_events(world, customers, 1_000_000, per_account, clock)
        started = time.perf_counter()
        asyncio.run(publish_all(live))
        published = len(live) / (time.perf_counter() - started)
        wait_for(charged_watch(store, customers, 3), 1200, "every account's second charge")
        as_published = len(live) / (time.perf_counter() - started)
        delays = []
        for n in range(args.probes):
            account = customers[n % len(customers)]
            before = len(kazbill_entries(store, account, [(2026, 3)]))
            (doc_id,) = add_phones(world, account, 100_000 + n, 1, clock)
            sent = time.perf_counter()
            asyncio.run(publish_all([change("doc_created", account, "device", doc_id)]))
            wait_for(
                lambda account=account, before=before: len(kazbill_entries(store, account, [(2026, 3)])) > before,
                60,
                "the probe's charge",
                poll_s=PROBE_POLL_S,
            )
            delays.append((time.perf_counter() - sent) * 1000)
        service.stop()
    delays.sort()
    key, engine = f"events.{store_key(args.couch)}", store_name(args.couch)
    print(f"store: {engine}; {len(customers)} accounts, {len(events)} events, 2 shards")
    print(f"raw RabbitMQ consume+ack (reference): {reference:,.0f} msg/s")
    print(
        f"doc events -> ledger entries, a queued backlog: {throughput:,.0f} events/s "
        f"(ratio to raw consume {throughput / reference:.3f})"
    )
    print(
        f"doc events -> ledger entries, as published: {as_published:,.0f} events/s "
        f"(this one publisher sent {published:,.0f} messages/s meanwhile)"
    )
    record(f"{key}.raw_rabbitmq_consume", reference, "msg/s", store="RabbitMQ")
    record(f"{key}.doc_events_to_ledger", throughput, "events/s", reference=f"{key}.raw_rabbitmq_consume", store=engine)
    record(f"{key}.bench_publisher", published, "msg/s", store="RabbitMQ")
    record(f"{key}.doc_events_as_published", as_published, "events/s", reference=f"{key}.bench_publisher", store=engine)
    if spent is not None:
        print(f"store requests: {spent / len(events):.1f} per event, {spent / len(customers):.1f} per account")
        record(
            f"{key}.store_requests_per_event",
            spent / len(events),
            "requests/event",
            higher_is_better=False,
            store=engine,
        )
    p50, p99 = statistics.median(delays), delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    record(f"{key}.publish_to_balance_p50", p50, "ms", higher_is_better=False, store=engine)
    record(f"{key}.publish_to_balance_p99", p99, "ms", higher_is_better=False, store=engine)
    print(f"publish -> balance visible: p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(delays)} probes)")


if __name__ == "__main__":
    main()
