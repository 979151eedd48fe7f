"""Rating benchmark, second part: Kazoo's CHANNEL_DESTROY events from RabbitMQ to per-minute
debits in the ledger, through a real `kazbill serve` (AMQP bridge, actor system on
multiprocTCPBase, 2 shards), against the same broker's raw consume + ack rate in the same run.

1. throughput: N carrier-leg events (each a distinct call, spread over the accounts, plus the
   phone's leg of each call, which the bridge drops) waiting in the bridge's queue, as the
   reference's messages wait in theirs (the bridge is stopped while they are published), timed
   from the bridge's resumption until every call's debit is in the ledger;
2. delay: single calls one after another, publish (≈ the call's end) → debit visible, p50/p99.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from bench.events import MSK, PROBE_POLL_S, bridge_stopped, raw_consume_rate, serving_over_amqp
from bench.record import RequestMeter, record, store_key, store_name
from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL
from testkit.support.bus import channel_destroy, publish_calls
from testkit.support.kazbill_service import wait_for
from testkit.support.stores import open_store


def calls_charged(store, accounts: list[str]) -> int:
    total = 0
    for account in accounts:
        db = account_modb(account, 2026, 3)
        if store.database_exists(db):
            total += sum(1 for row in store.all_docs(db).rows if "-kazbill-call-" in row.id)
    return total


def charged_watch(store, expected: dict[str, int]):
    """A condition for wait_for: every account has its calls charged. Accounts are read in turn,
    each until it is complete: a poll reads one account while the backlog is billed, where
    reading every pending account each poll (a listing of its growing month each) took a share
    of CouchDB's time beside what is timed."""
    pending = list(expected)

    def all_charged() -> bool:
        while pending and calls_charged(store, [pending[0]]) >= expected[pending[0]]:
            pending.pop(0)
        return not pending

    return all_charged


def run(calls: int, accounts: int, probes: int, couch: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="kazbill-bench-calls-"))
    store = open_store("couchdb" if couch else "embedded", couch or "", workdir)
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "default_rate_deck": "retail"}, plan=OFFICE_PLAN)
    import_rate_deck(
        store,
        world.reseller,
        "retail",
        ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60", "7,3.00,6,30"],
    )
    customers = [
        world.customer(f"C{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits=GENEROUS)
        for n in range(accounts)
    ]
    clock = FileClock(str(workdir / f"clock-{uuid.uuid4().hex}"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    reference = asyncio.run(raw_consume_rate(calls * 2))
    with serving_over_amqp(workdir, couch, clock) as service:
        events = []
        expected = dict.fromkeys(customers, 0)
        for n in range(calls):
            account = customers[n % len(customers)]
            expected[account] += 1
            events += [
                channel_destroy(account, f"bench-{n}", seconds=30 + n % 600),
                channel_destroy(account, f"bench-{n}-phone", leg="phone"),
            ]
        with bridge_stopped(service):
            asyncio.run(publish_calls(events))
        meter = RequestMeter(couch, own=store)
        started = time.perf_counter()  # the bridge resumes as the block ends
        wait_for(charged_watch(store, expected), 1800, "every call's debit")
        throughput = calls / (time.perf_counter() - started)
        spent = meter.spent()
        delays = []
        for n in range(probes):
            account = customers[n % len(customers)]
            before = calls_charged(store, [account])
            sent = time.perf_counter()
            asyncio.run(publish_calls([channel_destroy(account, f"probe-{n}")]))
            wait_for(
                lambda account=account, before=before: calls_charged(store, [account]) > before,
                60,
                "the probe's debit",
                poll_s=PROBE_POLL_S,
            )
            delays.append((time.perf_counter() - sent) * 1000)
        service.stop()
    delays.sort()
    key, engine = f"calls.{store_key(couch)}", store_name(couch)
    print(
        f"\ncalls from AMQP to the ledger: store {engine}; "
        f"{accounts} accounts, {calls:,} calls ({len(events):,} events with the phones' legs), 2 shards"
    )
    print(f"raw RabbitMQ consume+ack (reference): {reference:,.0f} msg/s")
    print(
        f"call events -> debits: {throughput:,.0f} calls/s, {throughput * 2:,.0f} events/s "
        f"(events ratio to raw consume {throughput * 2 / reference:.3f})"
    )
    record(f"{key}.raw_rabbitmq_consume", reference, "msg/s", store="RabbitMQ")
    record(
        f"{key}.call_events_to_debits",
        throughput * 2,
        "events/s",
        reference=f"{key}.raw_rabbitmq_consume",
        store=engine,
    )
    if spent is not None:
        print(f"store requests: {spent / calls:.1f} per call")
        record(f"{key}.store_requests_per_call", spent / calls, "requests/call", higher_is_better=False, store=engine)
    record(
        f"{key}.publish_to_debit_p99",
        delays[min(len(delays) - 1, int(len(delays) * 0.99))],
        "ms",
        higher_is_better=False,
        store=engine,
    )
    print(
        f"call end (publish) -> debit visible: p50 {statistics.median(delays):.0f} ms, "
        f"p99 {delays[min(len(delays) - 1, int(len(delays) * 0.99))]:.0f} ms ({len(delays)} probes)"
    )
