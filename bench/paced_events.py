"""Kazoo document events at a steady pace, as a working day brings them (not a backlog): what each
event costs the service, and how soon its charge shows, at a few rates. Between a backlog's
back-to-back messages and a lone change, events some tens of milliseconds apart are where the
bridges' quiet cut (actors/bridges/batch_collection.py) hands batches of one or two to the
shards, each an account's pass. Prints figures; asserts nothing.

One thread publishes new phones' `doc_created` at the rate, round-robin over the load's accounts,
each phone written just before its event (as Kazoo writes, then announces); the main thread
meanwhile probes other accounts one at a time (a phone, its event, polled every 10 ms until its
charge shows). CPU is the service's own processes' (bridge, supervisor, shards), from /proc.

    .venv/bin/python -m bench.paced_events [--rates 10,30,100] [--seconds 20] [--accounts 100] [--couch URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import aio_pika

from bench.events import MSK, PROBE_POLL_S, add_phones, serving_over_amqp
from bench.record import record, store_key, store_name
from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore, gregorian_now
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries
from testkit.support.broker import wait_drained
from testkit.support.bus import AMQP_URL, change
from testkit.support.kazbill_service import KazbillService, processes_mentioning, wait_for
from testkit.support.stores import open_store

TICKS_S = os.sysconf("SC_CLK_TCK")
# Probes on a schedule, not one after another: as many whatever their delay, so that the CPU an
# event (probes are events too) compares across versions of the service.
PROBE_EVERY_S = 0.3


def service_cpu_s(service: KazbillService) -> float:
    """User and system CPU of the service's processes so far (those alive now)."""
    total = 0
    for pid in processes_mentioning(str(service.clock_file)):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS_S


def publish_paced(store: DocumentStore, accounts: list[str], rate: float, seconds: float, clock: FileClock) -> int:
    """Publishes for `seconds` at `rate` events a second (on schedule, not after each other's
    answer); returns how many it sent."""

    async def run() -> int:
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel(publisher_confirms=False)
            exchange = await channel.declare_exchange("configuration", aio_pika.ExchangeType.TOPIC, durable=False)
            started, sent = time.perf_counter(), 0
            while (due := started + sent / rate) < started + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                account, doc_id = accounts[sent % len(accounts)], f"device-paced-{uuid.uuid4().hex[:12]}"
                created = gregorian_now(clock)
                store.put(
                    account_db(account),
                    stamp({"_id": doc_id, "device_type": "sip_device", "enabled": True}, account, "device", created),
                )
                key, body = change("doc_created", account, "device", doc_id)
                await exchange.publish(aio_pika.Message(body), routing_key=key)
                sent += 1
            return sent

    return asyncio.run(run())


def probe(world: World, account: str, n: int, clock: FileClock) -> float:
    """One new phone's publish → its charge visible, in ms."""
    before = len(kazbill_entries(world.store, account, [(2026, 3)]))
    (doc_id,) = add_phones(world, account, 200_000 + n, 1, clock)

    async def send() -> None:
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel(publisher_confirms=False)
            exchange = await channel.declare_exchange("configuration", aio_pika.ExchangeType.TOPIC, durable=False)
            key, body = change("doc_created", account, "device", doc_id)
            sent = time.perf_counter()
            await exchange.publish(aio_pika.Message(body), routing_key=key)
            times.append(sent)

    times: list[float] = []
    asyncio.run(send())
    wait_for(
        lambda: len(kazbill_entries(world.store, account, [(2026, 3)])) > before,
        60,
        "the probe's charge",
        poll_s=PROBE_POLL_S,
    )
    return (time.perf_counter() - times[0]) * 1000


def at_rate(
    service: KazbillService,
    world: World,
    load: list[str],
    probes: list[str],
    rate: float,
    seconds: float,
    clock: FileClock,
    couch: str | None,
    workdir: Path,
    key: str,
    idle_cores: float,
) -> None:
    publisher_store = open_store("couchdb" if couch else "embedded", couch or "", workdir)
    sent: list[int] = []
    cpu_before = service_cpu_s(service)
    started = time.perf_counter()
    thread = threading.Thread(target=lambda: sent.append(publish_paced(publisher_store, load, rate, seconds, clock)))
    thread.start()
    delays: list[float] = []
    while thread.is_alive():  # one probe every PROBE_EVERY_S, however soon each is charged
        due = started + len(delays) * PROBE_EVERY_S
        time.sleep(max(0.0, due - time.perf_counter()))
        delays.append(probe(world, probes[len(delays) % len(probes)], len(delays) + int(rate) * 1000, clock))
    thread.join()
    # Every event billed: its message acknowledged, which the bridge does once its batch is done.
    # (Not counted in entries: two phones of one account in one pass are one entry of two.)
    wait_drained([service.env["KAZBILL_AMQP_QUEUE"]], 600)
    elapsed = time.perf_counter() - started
    cpu = service_cpu_s(service) - cpu_before - idle_cores * elapsed  # the events' own
    publisher_store.close()
    events = sent[0] + len(delays)
    delays.sort()
    p50, p99 = statistics.median(delays), delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"  {rate:,.0f} events/s offered: {sent[0]} sent in {seconds:.0f} s, all charged "
        f"{elapsed - seconds:.1f} s after; service CPU {cpu * 1000 / events:.1f} ms an event beyond idle "
        f"({cpu / elapsed:.0%} of a core); publish → charge p50 {p50:.0f} ms, p99 {p99:.0f} ms "
        f"({len(delays)} probes)",
        flush=True,
    )
    engine = store_name(couch)
    name = f"{key}.at_{rate:g}_per_s"
    record(f"{name}.cpu_per_event", cpu * 1000 / events, "ms", higher_is_better=False, store=engine)
    record(f"{name}.publish_to_charge_p50", p50, "ms", higher_is_better=False, store=engine)
    record(f"{name}.publish_to_charge_p99", p99, "ms", higher_is_better=False, store=engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,30,100", help="events a second, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each rate is held")
    parser.add_argument("--accounts", type=int, default=100, help="accounts the paced load spreads over")
    parser.add_argument("--couch", help="a CouchDB URL (default: the embedded store)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kazbill-bench-paced-"))
    store = open_store("couchdb" if args.couch else "embedded", args.couch or "", workdir)
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)

    def customer(name: str) -> str:
        return world.customer(
            name, created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
        )

    load = [customer(f"L{n}") for n in range(args.accounts)]
    probes = [customer(f"P{n}") for n in range(10)]
    clock = FileClock(str(workdir / f"clock-{uuid.uuid4().hex}"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    key, engine = f"paced_events.{store_key(args.couch)}", store_name(args.couch)
    print(f"store: {engine}; paced load over {len(load)} accounts, {args.seconds:.0f} s a rate")
    with serving_over_amqp(workdir, args.couch, clock) as service:
        wait_for(lambda: all(kazbill_entries(store, c, [(2026, 3)]) for c in load + probes), 600, "the first crawl")
        # What the service spends with nothing to bill (its scheduler, mailer and document
        # passes): taken off each rate's figure.
        idle_from, idle_cpu = time.perf_counter(), service_cpu_s(service)
        time.sleep(args.seconds)
        idle_cores = (service_cpu_s(service) - idle_cpu) / (time.perf_counter() - idle_from)
        print(f"  idle: {idle_cores:.1%} of a core", flush=True)
        for rate in [float(r) for r in args.rates.split(",")]:
            at_rate(service, world, load, probes, rate, args.seconds, clock, args.couch, workdir, key, idle_cores)
        service.stop()


if __name__ == "__main__":
    main()
