"""`kazbill serve` through the faults an operator meets: the store unreachable for a while, the
broker restarted mid-stream, two instances running at once against the same store and queue.
After each, every charge is in the ledger exactly once and nothing was recorded as a failure."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from datetime import date, datetime
from urllib.parse import urlsplit

import pytest

from actors.system import connect
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.support.broker import broker_is_up, rabbitmq_app, wait_drained
from testkit.support.kazbill_service import bridge_bound, bridge_queues, wait_for
from testkit.support.tcp_proxy import TcpProxy
from tests.integration import test_serve_end_to_end as end_to_end
from tests.integration.test_amqp_config_bridge import change, publish, queue_depth_then_delete
from tests.integration.test_serve_end_to_end import MSK, THIRD_PHONE_FROM_2_MARCH, TWO_PHONES_MARCH, entries, new_phone

pytestmark = pytest.mark.integration
ONE_MORE_PHONE = dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH])
scene = end_to_end.scene  # the same reseller and customers as the end-to-end tests (a fixture)


def audit_differences(world, account_ids) -> list:
    """The bookkeeper's audit (recomputed from the documents' history) against the ledger, 1-2 March."""
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 3, 2, 23, 0, tzinfo=MSK)), world.design_docs)
    return [
        difference
        for account in account_ids
        for difference in audit_account(ports, account, date(2026, 3, 1), date(2026, 3, 2)).differences
    ]


def failures_about(store, account_ids) -> list[dict]:
    try:
        rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    except DatabaseNotFound:
        return []
    return [row.doc for row in rows if row.doc and row.doc.get("account_id") in account_ids]


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_the_store_unreachable_for_a_while_loses_and_doubles_nothing(scene):
    world, customers, service = scene
    proxy = TcpProxy(urlsplit(world.couch_url).port).start()
    try:
        kazbill = (
            service(KAZBILL_BRIDGES="couchdb", KAZBILL_STORE_URL=proxy.via(world.couch_url), KAZBILL_STORE_TIMEOUT="5")
            .start()
            .wait_ready()
        )
        wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
        proxy.cut()  # Kazbill loses the store; Kazoo (writing straight to CouchDB) does not
        for n, customer in enumerate(customers):
            new_phone(world, customer, n)
        time.sleep(3)  # the bridge and the shards meet the outage
        assert all(len(entries(world, c)) == 1 for c in customers)  # nothing could be billed meanwhile
        proxy.restore()
        wait_for(
            lambda: all(len(entries(world, c)) == 2 for c in customers),
            what=f"every new phone charged after the outage\n{kazbill.log()}",
        )
        assert kazbill.stop() == 0, kazbill.log()
    finally:
        proxy.stop()
    assert "cannot reach the store" in kazbill.log() or "paused" in kazbill.log()  # the outage was met
    for customer in customers:
        assert entries(world, customer) == ONE_MORE_PHONE
    assert failures_about(world.store, customers) == []  # an outage is waited out, not a failure
    assert audit_differences(world, customers) == []
    assert kazbill.leftovers() == []


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_the_broker_restarted_mid_stream_loses_and_doubles_nothing(scene):
    world, customers, service = scene
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    kazbill = service(KAZBILL_BRIDGES="amqp", KAZBILL_AMQP_QUEUE=queue).start().wait_ready()
    try:
        wait_for(lambda: bridge_bound(kazbill.log()), what="the bridge's queues")
        wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
        first = new_phone(world, customers[0], 1)
        asyncio.run(publish([change("doc_created", customers[0], "device", first)]))
        wait_for(lambda: len(entries(world, customers[0])) == 2, what=f"the first event\n{kazbill.log()}")
        rabbitmq_app("stop_app")  # every connection drops; the bridge must come back by itself
        try:
            time.sleep(2)
        finally:
            rabbitmq_app("start_app")
            assert broker_is_up()
        reconnected = time.monotonic()
        wait_for(
            lambda: (
                kazbill.log().count("to Kazoo's configuration exchange") >= 2 or time.monotonic() - reconnected > 15
            ),
            what="the bridge to reconnect",
        )
        # After the restart Kazoo carries on: the next phone, and the first one announced again.
        second = new_phone(world, customers[1], 2)
        events = [
            change("doc_created", customers[1], "device", second),
            change("doc_edited", customers[0], "device", first),
        ]

        def delivered() -> bool:
            asyncio.run(publish(events))  # until the bridge's queue is bound again, a publish is lost
            return len(entries(world, customers[1])) == 2

        wait_for(delivered, what=f"an event after the broker restart\n{kazbill.log()}")
        assert kazbill.stop() == 0, kazbill.log()
    finally:
        for name in bridge_queues(queue):
            asyncio.run(queue_depth_then_delete(name))
    assert entries(world, customers[0]) == ONE_MORE_PHONE
    assert entries(world, customers[1]) == ONE_MORE_PHONE
    assert entries(world, customers[2]) == dict([TWO_PHONES_MARCH])
    assert failures_about(world.store, customers) == []
    assert audit_differences(world, customers) == []
    assert kazbill.leftovers() == []


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_two_instances_on_one_store_and_one_queue_charge_once(scene):
    world, customers, service = scene
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    both = dict(KAZBILL_BRIDGES="amqp,couchdb", KAZBILL_AMQP_QUEUE=queue)
    one, two = service(**both).start(), service(**both).start()
    try:
        one.wait_ready(), two.wait_ready()
        wait_for(lambda: bridge_bound(one.log()) and bridge_bound(two.log()), what="both bridges' queues")
        wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{one.log()}")
        events = []
        for n, customer in enumerate(customers):
            doc_id = new_phone(world, customer, n)
            events += [change("doc_created", customer, "device", doc_id)] * 3  # each announced three times
        asyncio.run(publish(events))
        wait_for(
            lambda: all(len(entries(world, c)) == 2 for c in customers),
            what=f"every new phone charged\n{one.log()}\n{two.log()}",
        )
        # The slower instance finishes what it holds (it must find everything done) before either stops.
        wait_drained(bridge_queues(queue))
        assert one.stop() == 0, one.log()
        assert two.stop() == 0, two.log()
    finally:
        depths = [asyncio.run(queue_depth_then_delete(name)) for name in bridge_queues(queue)]
    assert depths == [0, 0, 0]
    for customer in customers:
        assert entries(world, customer) == ONE_MORE_PHONE
    assert failures_about(world.store, customers) == []  # racing writers find "already done", not errors
    assert audit_differences(world, customers) == []
    assert one.leftovers() == [] and two.leftovers() == []


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_stopped_while_the_store_hangs_the_service_exits_with_no_actor_left(scene):
    """A crawl stuck on a store node that stopped answering when the operator stops the service:
    Thespian's shutdown gives up on the busy actor after ten seconds, and the service must not
    exit leaving it running (a restarted service would bill beside it)."""
    world, customers, service = scene
    proxy = TcpProxy(urlsplit(world.couch_url).port).start()
    try:
        kazbill = (
            service(KAZBILL_STORE_URL=proxy.via(world.couch_url), KAZBILL_STORE_TIMEOUT="600").start().wait_ready()
        )
        wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
        proxy.freeze()
        client = connect(kazbill.admin_port, timeout_s=600)
        threading.Thread(target=_crawl_regardless, args=(client,), daemon=True).start()
        wait_for(
            lambda: [line for line in proxy.held_requests() if "_changes" not in line],
            what="the crawl's first store request to hang",
        )
        assert kazbill.stop(timeout_s=120) == 0, kazbill.log()
        left = kazbill.leftovers()  # at once: the service exits only when its actors are gone
    finally:
        proxy.stop()
    assert left == [], kazbill.log()
    assert "actor processes still running" in kazbill.log()  # what was killed is named


def _crawl_regardless(client) -> None:
    with contextlib.suppress(Exception):  # the service stops under it: that is the point
        client.crawl_now(timeout_s=600)
