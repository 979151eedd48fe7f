"""`kazbill status` against a running service, a real RabbitMQ queue and the store: what an
operator looks at first."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid

import aio_pika
import pytest

from bookkeeper.services.setup.failures import record_failure
from testkit.support.kazbill_service import bridge_queues, wait_for
from tests.integration import test_serve_end_to_end as end_to_end
from tests.integration.test_amqp_config_bridge import AMQP_URL, queue_depth_then_delete
from tests.integration.test_serve_end_to_end import entries

pytestmark = pytest.mark.integration
KAZBILL = os.path.join(os.path.dirname(sys.executable), "kazbill")
scene = end_to_end.scene  # the end-to-end tests' reseller and customers (a fixture)


async def queue_with(name: str, messages: int) -> None:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(name, durable=True)
        for _ in range(messages):
            await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=name)


def status(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [KAZBILL, "status", "--json"], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_shows_the_service_the_queues_the_crawl_and_what_awaits_a_person(scene, tmp_path):
    world, customers, service = scene
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    asyncio.run(queue_with(queue, 3))  # three changes no bridge has taken yet
    record_failure(
        world.store,
        source="amqp",
        reason_code="malformed_json",
        reason="not JSON",
        payload="{oops",
        account_id=None,
        now_gregorian=1,
    )
    kazbill = service(KAZBILL_BRIDGES="couchdb").start().wait_ready()
    try:
        wait_for(lambda: all(entries(world, c) for c in customers), what=kazbill.log())
        env = {
            "KAZBILL_STORE_PATH": str(tmp_path / "kazbill.sqlite3"),
            "KAZBILL_ACTOR_PORT": str(kazbill.admin_port),
            "KAZBILL_AMQP_QUEUE": queue,
            "KAZBILL_STORE_URL": "",
        }
        # One reading that shows the start-up crawl and every database it made followed (the
        # follower checkpoints a database a step after the crawl made it).
        running = wait_for(
            lambda: (
                (shown := status(env))["store"]["last_crawl"]
                and shown["store"]["databases_never_followed"] == 0
                and shown
            ),
            what="the start-up crawl recorded and every database followed",
        )
        assert kazbill.stop() == 0
        stopped = status(env)
    finally:
        for name in bridge_queues(queue):
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):  # never declared
                asyncio.run(queue_depth_then_delete(name))
    service_part = running["service"]
    assert service_part["running"] and service_part["answered"] and len(service_part["shard_pids"]) == 2
    assert service_part["restarts"] == 0 and not service_part["giving_up"]
    assert running["amqp"] == {
        "reachable": True,
        "queues": {queue: 3, f"{queue}.bookkeepers": None, f"{queue}.calls": None},
    }
    assert running["store"]["last_crawl"][world.reseller] == {"day": "2026-03-02", "name": "Reseller"}
    assert running["store"]["failures"] == {"amqp/malformed_json": 1}
    assert running["store"]["databases_followed"] > 0 and running["store"]["databases_never_followed"] == 0
    assert stopped["service"] == {"running": False, "admin_port": kazbill.admin_port}


def test_status_says_when_the_broker_cannot_be_reached(tmp_path):
    env = {
        "KAZBILL_STORE_PATH": str(tmp_path / "empty.sqlite3"),
        "KAZBILL_STORE_URL": "",
        "KAZBILL_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
        "KAZBILL_ACTOR_PORT": "1",
    }
    report = status(env)
    assert report["amqp"]["reachable"] is False and report["service"]["running"] is False
    assert report["store"]["failures"] == {} and report["store"]["last_crawl"] == {}
