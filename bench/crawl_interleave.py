"""Does a big daily crawl hold events up? A real `kazbill serve` (AMQP bridge, 2 shards,
embedded store or CouchDB) with N accounts billed daily: the delay from publishing a Kazoo
doc_created event to its charge being visible, first with the service idle, then while the
scheduler crawls a new day for every account. Prints figures; asserts nothing.

    .venv/bin/python -m bench.crawl_interleave [--accounts 2000] [--couch URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from actors.system import connect
from bench.events import PROBE_POLL_S, add_phones, publish_all, serving_over_amqp
from bench.record import RequestMeter, record, store_key, store_name
from bookkeeper.adapters.clock import FileClock
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries
from testkit.support.bus import change
from testkit.support.kazbill_service import wait_for
from testkit.support.stores import open_store

MSK = ZoneInfo("Europe/Moscow")
MARCH = [(2026, 3)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def probe(world: World, store, account: str, n: int, clock: FileClock) -> float:
    before = len(kazbill_entries(store, account, MARCH))
    (doc_id,) = add_phones(world, account, 200_000 + n, 1, clock)
    sent = time.perf_counter()
    asyncio.run(publish_all([change("doc_created", account, "device", doc_id)]))
    wait_for(
        lambda: len(kazbill_entries(store, account, MARCH)) > before, 600, "the probe's charge", poll_s=PROBE_POLL_S
    )
    return (time.perf_counter() - sent) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--couch", help="a CouchDB URL (default: the embedded store)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kazbill-bench-crawl-"))
    store = open_store("couchdb" if args.couch else "embedded", args.couch or "", workdir)
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "charging": {"devices": "daily"}}, plan=OFFICE_PLAN)
    for n in range(args.accounts):
        world.customer(
            f"C{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
        )
    probes = [
        world.customer(
            f"Probe{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS
        )
        for n in range(3)
    ]  # no daily fees: only a probe makes an entry
    clock = FileClock(str(workdir / f"clock-{uuid.uuid4().hex}"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    with serving_over_amqp(workdir, args.couch, clock) as service:
        idle = [probe(world, store, probes[n % 3], n, clock) for n in range(10)]

        clock.set(datetime(2026, 3, 3, 0, 10, tzinfo=MSK))  # a new day for every account
        crawl: dict[str, float] = {}

        def crawl_a_day() -> None:
            client = connect(service.admin_port, timeout_s=1800)
            meter = RequestMeter(args.couch)  # the probes' own requests are in it too: a few per probe
            started = time.perf_counter()
            report = client.crawl_now(timeout_s=1800)
            crawl.update(seconds=time.perf_counter() - started, accounts=report.accounts, requests=meter.spent())

        crawler = threading.Thread(target=crawl_a_day)
        crawler.start()
        time.sleep(0.5)
        during = []
        while crawler.is_alive():
            during.append(probe(world, store, probes[len(during) % 3], 100 + len(during), clock))
        crawler.join()
        service.stop()
    key, engine = f"crawl.{store_key(args.couch)}", store_name(args.couch)
    print(f"store: {engine}; {args.accounts} accounts billed daily, 2 shards, crawl chunks of 5-50 paced, 2 in flight")
    print(
        f"crawl of one day: {crawl['accounts']} accounts in {crawl['seconds']:.1f} s "
        f"({crawl['accounts'] / crawl['seconds']:,.0f} accounts/s)"
    )
    record(
        f"{key}.accounts_billed",
        crawl["accounts"] / crawl["seconds"],
        "accounts/s",
        store=engine,
        reference=f"period_close.{store_key(args.couch)}.accounts_opened",
    )
    if crawl["requests"] is not None:
        print(f"store requests: {crawl['requests'] / crawl['accounts']:.1f} per account crawled")
        record(
            f"{key}.store_requests_per_account",
            crawl["requests"] / crawl["accounts"],
            "requests/account",
            higher_is_better=False,
            store=engine,
        )
    record(f"{key}.event_delay_idle_p99", percentile(idle, 0.99), "ms", higher_is_better=False, store=engine)
    if during:
        record(f"{key}.event_delay_during_p99", percentile(during, 0.99), "ms", higher_is_better=False, store=engine)
    print(
        f"event delay, idle: p50 {statistics.median(idle):.0f} ms, p99 {percentile(idle, 0.99):.0f} ms "
        f"({len(idle)} probes)"
    )
    if during:
        print(
            f"event delay during the crawl: p50 {statistics.median(during):.0f} ms, "
            f"p99 {percentile(during, 0.99):.0f} ms, max {max(during):.0f} ms ({len(during)} probes)"
        )


if __name__ == "__main__":
    main()
