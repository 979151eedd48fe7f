"""Distributed mode: several `kazbill serve` nodes (each its own process group, its own actor
system) share one CouchDB-compatible store; each account is billed by the one node that owns it.
A node is SIGKILLed with work in its hands, a new node joins, the simulated days go on; at the
end the audit finds nothing lost and nothing doubled, the call placed as the node died is charged
once, and the surviving nodes stop cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import urllib.request
import uuid
from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import FileClock, SettableClock
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, account_db, account_modb
from bookkeeper.domain.ownership import owner_of
from bookkeeper.ports import ViewQuery
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.cluster.membership import Membership
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.support.kazbill_service import KAZBILL, KazbillService, bridge_bound, free_port, wait_for
from tests.integration.conftest import CleaningStore, open_store
from tests.integration.test_amqp_config_bridge import change, publish, queue_depth_then_delete
from tests.integration.test_billing_worked_examples import DAILY_PHONES, GENEROUS, MSK, OFFICE_PLAN
from tests.integration.test_calls_end_to_end import call_debits, cdr, channel_destroy, publish_calls
from tests.integration.test_serve_faults import failures_about

pytestmark = pytest.mark.integration
CUSTOMERS = 9
LEASE_S = 3


class Node(KazbillService):
    """One Kazbill node: its own process group, actor port, node name, and a path of its own to
    the shared clock file (so that what it leaves behind is told apart from the others')."""

    def __init__(self, tmp_path, couch_url: str, clock_path, name: str, bridge: str, queue: str):
        own_clock = tmp_path / f"clock-{name}"
        os.symlink(clock_path, own_clock)
        super().__init__(
            tmp_path,
            {
                "KAZBILL_STORE_URL": couch_url,
                "KAZBILL_BRIDGES": bridge,
                "KAZBILL_AMQP_QUEUE": queue,
                "KAZBILL_NODE": name,
                "KAZBILL_LEASE": str(LEASE_S),
                "KAZBILL_SCHEDULER_INTERVAL": "1",
            },
            own_clock,
        )
        self.name, self.bridge, self.queue = name, bridge, queue

    def start_ready(self) -> Node:
        self.start().wait_ready()
        if self.bridge == "amqp":
            wait_for(lambda: bridge_bound(self.log()), what=f"{self.name}'s queues")
        return self

    def queues(self) -> list[str]:
        return [f"{self.queue}@{self.name}", f"{self.queue}@{self.name}.calls"]

    def kill_group(self) -> None:
        """The machine it ran on is gone: every process of the node at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(params=["couchdb", "amqp"])
def cluster(request, own_couch_url, tmp_path):
    """Nodes following the store's changes, or Kazoo's AMQP notices and call events only."""
    store = CleaningStore(open_store("couchdb", own_couch_url, tmp_path))
    world = World(store).build(reseller_onbill={**DAILY_PHONES, "default_rate_deck": "retail"}, plan=OFFICE_PLAN)
    assert import_rate_deck(
        store, world.reseller, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60"]
    ).report.ok
    customers = [
        world.customer(
            f"Customer {n}",
            created=datetime(2026, 1, 10, tzinfo=MSK),
            onbill={"billing_day": 1},
            limits=GENEROUS,
            devices=2,
        )
        for n in range(CUSTOMERS)
    ]
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(datetime(2026, 3, 2, 0, 10, tzinfo=MSK))
    nodes: list[Node] = []
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    suffix = shared_out_suffix(customers)

    def node(name: str) -> Node:
        nodes.append(Node(tmp_path, own_couch_url, tmp_path / "clock", f"{name}-{suffix}", request.param, queue))
        if name == "c":  # one node logs JSON lines, as a log shipper wants them
            nodes[-1].env["KAZBILL_LOG_FORMAT"] = "json"
        if name == "a":  # and one serves its own counters to Prometheus
            nodes[-1].env["KAZBILL_METRICS_BIND"] = f"127.0.0.1:{free_port()}"
        return nodes[-1]

    yield world, customers, clock, node
    for running in nodes:
        running.cleanup()
    if request.param == "amqp":
        for name in [f"{queue}.bookkeepers", *(name for running in nodes for name in running.queues())]:
            asyncio.run(queue_depth_then_delete(name))
    store.cleanup()


def shared_out_suffix(customers: list[str]) -> str:
    """A suffix for the nodes' names under which b, the node to be killed, owns some of the
    accounts but not all: with random names it owns none about once in 40 runs (2/3 ** 9)."""
    while True:
        suffix = uuid.uuid4().hex[:6]
        names = tuple(f"{name}-{suffix}" for name in "abc")
        owned_by_b = sum(1 for customer in customers if owner_of(customer, names) == names[1])
        if 0 < owned_by_b < len(customers):
            return suffix


def fee_days(store, account_id: str) -> set[str]:
    """The days a daily fee was charged for, from the ledger."""
    return {meta["day"] for meta in _fees(store, account_id)}


def add_phone(world: World, account_id: str, clock: FileClock, n: int) -> tuple[str, bytes]:
    """Kazoo saves the device and announces it on `configuration`: the notice it publishes."""
    moment = int(clock.now().timestamp()) + GREGORIAN_UNIX_OFFSET
    world.store.put(
        account_db(account_id),
        stamp(
            {"_id": f"device-late-{n}", "name": f"Late {n}", "device_type": "sip_device", "enabled": True},
            account_id,
            "device",
            created=moment,
        ),
    )
    return change("doc_created", account_id, "device", f"device-late-{n}")


def live_nodes(world: World) -> tuple[str, ...]:
    return Membership(world.store, "observer").live()


def next_day(clock: FileClock, world: World, customers: list[str], day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 0, 10, tzinfo=MSK))
    wait_for(
        lambda: all(day.isoformat() in fee_days(world.store, c) for c in customers),
        timeout_s=120,
        what=f"every customer's fee of {day}",
    )


def test_nodes_share_the_accounts_and_a_dead_node_s_work_is_taken_over_once(cluster):
    world, customers, clock, node = cluster
    a, b, c = node("a"), node("b"), node("c")
    for each in (a, b, c):
        each.start_ready()
    wait_for(lambda: len(live_nodes(world)) == 3, what="three live leases")
    next_day(clock, world, customers, date(2026, 3, 2))
    # On a busy machine a 3 s lease can lapse for a moment: share the accounts out among all three.

    def all_three() -> tuple[str, ...] | None:
        live = live_nodes(world)
        return live if len(live) == 3 else None

    three = wait_for(all_three, what="three live leases again")
    owned_by_b = [customer for customer in customers if owner_of(customer, three) == b.name]
    assert owned_by_b and len(owned_by_b) < CUSTOMERS  # the accounts are shared out

    # 2 March, 14:00: every account of b gets a phone and one places a call; b dies at once.
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    notices = [add_phone(world, customer, clock, n) for n, customer in enumerate(owned_by_b)]
    world.store.ensure_database(account_modb(owned_by_b[0], 2026, 3))
    world.store.put(account_modb(owned_by_b[0], 2026, 3), cdr(owned_by_b[0], "call-as-b-died"))
    asyncio.run(publish(notices))
    asyncio.run(publish_calls([channel_destroy(owned_by_b[0], "call-as-b-died")]))
    b.kill_group()
    wait_for(lambda: b.name not in live_nodes(world), timeout_s=30, what="b's lease to run out")
    wait_for(lambda: call_debits(world.store, owned_by_b[0]), timeout_s=120, what=f"the call charged\n{a.log()}")
    wait_for(
        lambda: all(_phones_charged_on(world.store, customer, "2026-03-02") == 3 for customer in owned_by_b),
        timeout_s=120,
        what=f"b's accounts charged their third phone by the survivors\n{a.log()}\n{c.log()}",
    )
    next_day(clock, world, customers, date(2026, 3, 3))

    # A new node joins and takes its share; the days go on.
    d = node("d").start_ready()
    wait_for(lambda: d.name in live_nodes(world), what="d's lease")
    wait_for(lambda: "taking" in d.log(), what=f"d taking its share over\n{d.log()}")
    next_day(clock, world, customers, date(2026, 3, 4))

    def status() -> dict:
        return json.loads(
            subprocess.run(
                [KAZBILL, "status", "--json"], env=a.env, capture_output=True, text=True, timeout=60, check=True
            ).stdout
        )["store"]

    # The reseller's day (Moscow) as its live nodes all crawled it; the master keeps UTC, still 3 March.
    # Both in one reading: on a busy machine a node's 3 s lease can lapse for a moment between two.
    wait_for(
        lambda: (
            (shown := status())["last_crawl"].get(world.reseller, {}).get("day") == "2026-03-04"
            and sorted(shown["nodes"]) == sorted([a.name, c.name, d.name])
        ),
        what="`kazbill status` to show the cluster's crawl of 4 March by a, c and d",
    )

    def charged_by_a() -> int:
        page = urllib.request.urlopen(f"http://{a.env['KAZBILL_METRICS_BIND']}/metrics", timeout=10).read().decode()
        found = re.search(rf'kazbill_events_total{{node="{a.name}",event="charged"}} (\d+)', page)
        return int(found.group(1)) if found else 0

    wait_for(lambda: charged_by_a() > 0, what="node a's /metrics counting its charges")

    for survivor in (a, c, d):
        assert survivor.stop() == 0, survivor.log()
    b.wait_gone()
    assert live_nodes(world) == ()  # clean stops give their leases up
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 3, 4, 23, 0, tzinfo=MSK)), world.design_docs)
    differences = {
        customer: audit_account(ports, customer, date(2026, 3, 2), date(2026, 3, 4)).differences
        for customer in customers
    }
    assert differences == {customer: [] for customer in customers}
    assert list(call_debits(world.store, owned_by_b[0])) == ["202603-kazbill-call-call-as-b-died"]
    assert failures_about(world.store, customers) == []
    lines = [json.loads(line) for line in c.log_path.read_text().splitlines() if line.startswith('{"ts"')]
    assert lines and all(line["node"] == c.name for line in lines)
    assert any("batch_id" in line and line["logger"] == "kazbill.shard" for line in lines)  # each batch, by its id
    orphans = sum(
        int(found)
        for running in (a, c)
        for found in re.findall(r"\((\d+) from a node that left\)", running.log_path.read_text())
    )
    assert orphans >= len(owned_by_b)  # the survivors took b's accounts over (and later each other's, as they stopped)
    print(
        f"\ncluster run ({world_bridge(a)}): {CUSTOMERS} accounts on 3 nodes, {len(owned_by_b)} taken over "
        f"from the killed node, 1 node joined, 3 days crawled, 0 differences"
    )


def world_bridge(node: Node) -> str:
    return "store changes" if node.bridge == "couchdb" else "AMQP notices and call events"


def _fees(store, account_id: str) -> list[dict]:
    db = account_modb(account_id, 2026, 3)
    rows = store.all_docs(db, ViewQuery(include_docs=True)).rows if store.database_exists(db) else []
    return [
        row.doc["metadata"]["kazbill"]
        for row in rows
        if row.doc
        and row.doc.get("pvt_type") == "ledger"
        and (row.doc.get("metadata") or {}).get("kazbill", {}).get("reason") == "daily_fee"
    ]


def _phones_charged_on(store, customer: str, day: str) -> int:
    """The highest quantity among the day's fee entries."""
    return max((meta["quantity"] for meta in _fees(store, customer) if meta["day"] == day), default=0)
