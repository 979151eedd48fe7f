"""`kazbill serve` as an operator runs it: a real process tree (actor system, bridges), Kazoo
documents changing in the store or announced on the real RabbitMQ, and the ledger entries a
reseller expects, once each, whatever is duplicated, reordered or killed on the way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, account_db
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.support.broker import wait_drained
from testkit.support.kazbill_service import KazbillService, bridge_bound, bridge_queues, wait_for
from tests.integration.conftest import CleaningStore, open_store
from tests.integration.test_amqp_config_bridge import change, publish, queue_depth_then_delete
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")
MARCH = [(2026, 3)]
TWO_PHONES_MARCH = ("202603-kazbill-mrc-20260301-devices-sip_device-q2", ("debit", 10_000_000))
THIRD_PHONE_FROM_2_MARCH = ("202603-kazbill-mrc-20260301-devices-sip_device-q3", ("debit", 4_838_710))  # 500 × 30/31


@pytest.fixture
def scene(request, tmp_path):
    """A reseller with three customers of two phones each, in the store the test names."""
    adapter = getattr(request, "param", "embedded")
    couch_url = request.getfixturevalue("own_couch_url") if adapter == "couchdb" else ""
    store = CleaningStore(open_store(adapter, couch_url, tmp_path))
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customers = [
        world.customer(
            f"Customer {n}",
            created=datetime(2026, 1, 10, tzinfo=MSK),
            onbill={"billing_day": 1},
            limits=GENEROUS,
            devices=2,
        )
        for n in range(3)
    ]
    clock = FileClock(str(tmp_path / f"clock-{uuid.uuid4().hex}"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    env = (
        {"KAZBILL_STORE_PATH": str(tmp_path / "kazbill.sqlite3")}
        if adapter == "embedded"
        else {"KAZBILL_STORE_URL": couch_url}
    )
    world.couch_url = couch_url  # type: ignore[attr-defined]  (the fault tests put a proxy in front of it)
    services: list[KazbillService] = []

    def service(**extra_env: str) -> KazbillService:
        services.append(KazbillService(tmp_path, {**env, **extra_env}, tmp_path / clock.path.split("/")[-1]))
        return services[-1]

    yield world, customers, service
    for running in services:
        running.cleanup()
    store.cleanup()


def new_phone(world: World, account_id: str, n: int) -> str:
    doc_id = f"device-added-{n}"
    added = int(datetime(2026, 3, 2, 14, 0, tzinfo=MSK).timestamp()) + GREGORIAN_UNIX_OFFSET  # the scene's "now"
    world.store.put(
        account_db(account_id),
        stamp(
            {"_id": doc_id, "name": f"Added {n}", "device_type": "sip_device", "enabled": True},
            account_id,
            "device",
            created=added,
        ),
    )
    return doc_id


@contextmanager
def serving_over_amqp(service) -> Iterator[tuple[KazbillService, dict[str, int]]]:
    """serve with the AMQP bridge on queues of the test's own, both bound before the test goes on;
    afterwards each queue's depth (what was left unacknowledged) is recorded and the queue
    deleted (they are durable: they would outlive the test). A test stops the service with
    `stop_drained`: what it waited for (a charge, a reply) can come before the last message is
    done with (a duplicate still queued, the acknowledgement sent after the reply)."""
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    kazbill = service(KAZBILL_BRIDGES="amqp", KAZBILL_AMQP_QUEUE=queue).start().wait_ready()
    depths: dict[str, int] = {}
    try:
        wait_for(
            lambda: bridge_bound(kazbill.log()) and "answering Kazoo's bookkeeper requests" in kazbill.log(),
            what="the bridge's queues",
        )
        yield kazbill, depths
    finally:
        for name in bridge_queues(queue):
            depths[name] = asyncio.run(queue_depth_then_delete(name))


def stop_drained(kazbill: KazbillService) -> int:
    """Stop the service once its bridge's queues hold nothing, neither waiting nor unacknowledged."""
    wait_drained(bridge_queues(kazbill.env["KAZBILL_AMQP_QUEUE"]))
    return kazbill.stop()


def entries(world: World, account_id: str) -> dict:
    return kazbill_entries(world.store, account_id, MARCH)


def test_the_changes_bridge_bills_a_new_phone_and_sigterm_leaves_nothing_running(scene):
    world, customers, service = scene
    kazbill = service(KAZBILL_BRIDGES="couchdb").start().wait_ready()
    wait_for(
        lambda: all(entries(world, customer) for customer in customers), what=f"the first charges\n{kazbill.log()}"
    )
    new_phone(world, customers[0], 1)
    wait_for(lambda: len(entries(world, customers[0])) == 2, what=f"the new phone's charge\n{kazbill.log()}")
    assert kazbill.stop() == 0, kazbill.log()
    assert kazbill.leftovers() == []
    assert entries(world, customers[0]) == dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH])
    assert entries(world, customers[1]) == dict([TWO_PHONES_MARCH])


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_kazoo_events_on_rabbitmq_duplicated_and_reordered_charge_once(scene):
    world, customers, service = scene
    with serving_over_amqp(service) as (kazbill, depths):
        wait_for(
            lambda: all(entries(world, customer) for customer in customers), what=f"the first charges\n{kazbill.log()}"
        )
        # Kazoo wrote two phones and announced them; the broker delivers every event twice and
        # the second phone's event before the first's.
        first, second = new_phone(world, customers[1], 1), new_phone(world, customers[1], 2)
        events = [change("doc_created", customers[1], "device", doc_id) for doc_id in (second, first)]
        asyncio.run(publish(events + events))
        wait_for(lambda: len(entries(world, customers[1])) == 2, what=f"the new phones' charge\n{kazbill.log()}")
        assert stop_drained(kazbill) == 0, kazbill.log()
    assert list(depths.values()) == [0, 0, 0]  # every event acknowledged
    assert entries(world, customers[1]) == {
        TWO_PHONES_MARCH[0]: TWO_PHONES_MARCH[1],
        "202603-kazbill-mrc-20260301-devices-sip_device-q4": ("debit", 9_677_419),  # 2 × 500.00 × 30/31 = 967.7419…
    }
    assert kazbill.leftovers() == []


def test_sigkill_mid_stream_then_restart_loses_and_doubles_nothing(scene):
    world, customers, service = scene
    kazbill = service(KAZBILL_BRIDGES="couchdb").start().wait_ready()
    wait_for(
        lambda: all(entries(world, customer) for customer in customers), what=f"the first charges\n{kazbill.log()}"
    )
    for n, customer in enumerate(customers):
        new_phone(world, customer, n)
    kazbill.kill()  # no shutdown(): the actors' watchdog and the bridges' death signal must clean up
    wait_for(lambda: not kazbill.leftovers(), 30, "the orphaned actor processes to stop")
    restarted = service(KAZBILL_BRIDGES="couchdb").start().wait_ready()
    wait_for(
        lambda: all(len(entries(world, customer)) == 2 for customer in customers),
        what=f"every new phone charged after the restart\n{restarted.log()}",
    )
    assert restarted.stop() == 0
    for customer in customers:
        assert entries(world, customer) == dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH])


async def ask_bookkeeper(account_id: str, server_id: str, timeout_s: float = 60.0) -> dict:
    """What Kazoo's kz_amqp_worker does: publish update_req, wait on its own queue for the reply."""
    import json

    import aio_pika

    from tests.integration.test_amqp_config_bridge import AMQP_URL

    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        targeted = await channel.declare_exchange("targeted", aio_pika.ExchangeType.DIRECT, durable=False)
        replies = await channel.declare_queue(server_id, exclusive=True, auto_delete=True)
        await replies.bind(targeted, routing_key=server_id)
        requests = await channel.declare_exchange("bookkeepers", aio_pika.ExchangeType.TOPIC, durable=False)
        request = {
            "Event-Category": "bookkeepers",
            "Event-Name": "update_req",
            "App-Name": "kazoo_services",
            "App-Version": "4.3.0",
            "Node": "kazoo@test",
            "Msg-ID": "msg-1",
            "Server-ID": server_id,
            "Account-ID": account_id,
            "Bookkeeper-ID": "kazbill",
            "Bookkeeper-Type": "kazbill",
            "Vendor-ID": account_id,
            "Invoice": {},
        }
        await requests.publish(aio_pika.Message(json.dumps(request).encode()), routing_key="bookkeepers.update.request")
        async with replies.iterator(timeout=timeout_s) as incoming:
            async for message in incoming:
                await message.ack()
                return json.loads(message.body)
    raise AssertionError("no update_resp")


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_kazoos_bookkeeper_update_request_is_answered_after_billing(scene):
    world, customers, service = scene
    with serving_over_amqp(service) as (kazbill, depths):
        wait_for(lambda: entries(world, customers[2]), what=f"the first charges\n{kazbill.log()}")
        new_phone(world, customers[2], 1)  # a billable change Kazoo's services app saw
        reply = asyncio.run(ask_bookkeeper(customers[2], f"kazoo-test-{uuid.uuid4().hex}"))
        stranger = asyncio.run(ask_bookkeeper("f" * 32, f"kazoo-test-{uuid.uuid4().hex}"))
        assert stop_drained(kazbill) == 0, kazbill.log()
    assert list(depths.values()) == [0, 0, 0]  # every request acknowledged
    assert (reply["Event-Name"], reply["Msg-ID"], reply["Status"]) == ("update_resp", "msg-1", "success")
    assert "charged" in reply["Details"]["events"]
    assert len(entries(world, customers[2])) == 2  # billed before the answer went out
    assert (stranger["Status"], stranger["Reason"]) == ("error", "billing_failed")


async def listen_to_configuration(queue_name: str, keys: list[str]) -> None:
    import aio_pika

    from tests.integration.test_amqp_config_bridge import AMQP_URL

    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange("configuration", aio_pika.ExchangeType.TOPIC, durable=False)
        queue = await channel.declare_queue(queue_name, durable=True)
        for key in keys:
            await queue.bind(exchange, routing_key=key)


async def drain(queue_name: str) -> list[tuple[str, dict]]:
    import json

    import aio_pika

    from tests.integration.test_amqp_config_bridge import AMQP_URL

    connection = await aio_pika.connect_robust(AMQP_URL)
    got = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True, passive=True)
        while (message := await queue.get(fail=False)) is not None:
            await message.ack()
            got.append((message.routing_key, json.loads(message.body)))
    return got


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_kazoo_hears_of_a_block_kazbill_wrote_so_that_its_caches_flush(scene):
    from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, encode_db_name

    world, customers, service = scene
    world.store.put(
        account_db(world.reseller), {**world.store.get(account_db(world.reseller), "onbill"), "blocking_enabled": True}
    )
    broke = world.customer("Broke", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2)
    kazoo = f"kazbill.test.kazoo.{uuid.uuid4().hex}"  # what jonny5 would be listening on
    asyncio.run(listen_to_configuration(kazoo, ["doc_edited.*.account.*", "doc_edited.*.limits.*"]))
    try:
        with serving_over_amqp(service) as (kazbill, depths):
            # The start-up crawl finds March unpaid and blocks the account; the bridge announces it.
            wait_for(lambda: world.store.get(ACCOUNTS_DB, broke)["pvt_enabled"] is False, what=kazbill.log())
            heard: list = []
            wait_for(
                lambda: heard.extend(asyncio.run(drain(kazoo))) or len(heard) >= 2,
                what=f"the doc_edited notices\n{kazbill.log()}",
            )
            assert stop_drained(kazbill) == 0, kazbill.log()
    finally:
        asyncio.run(queue_depth_then_delete(kazoo))
    notices = {(body["Database"], body["ID"]): (key, body) for key, body in heard}
    encoded = encode_db_name(account_db(broke))
    assert set(notices) == {(ACCOUNTS_DB, broke), (encoded, broke)}
    key, body = notices[(ACCOUNTS_DB, broke)]
    assert key == f"doc_edited.accounts.account.{broke}"
    assert body["Rev"] == world.store.get(ACCOUNTS_DB, broke)["_rev"] and body["Node"].startswith("kazbill@")
    assert notices[(encoded, broke)][1]["Rev"] == world.store.get(account_db(broke), broke)["_rev"]
    assert list(depths.values()) == [0, 0, 0]  # its own notices came back to the bridge and were acked
