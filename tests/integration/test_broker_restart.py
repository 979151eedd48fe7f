"""RabbitMQ restarted under a running `kazbill serve` (AMQP bridge only): the bridge reconnects by
itself and stays up, events that were in flight when the broker went (Kazoo publishes them
transient: a restart may drop them) are charged by the day's crawl, events announced once it has
bound again are billed over AMQP, and nothing is charged twice.

This test restarts the machine's broker (`rabbitmqctl stop_app` / `start_app`): a few seconds
during which any other user of it is disconnected."""
from __future__ import annotations

import asyncio
import subprocess

import pytest

from actors.system import connect
from tests.integration.test_amqp_config_bridge import change, publish
from tests.integration.test_serve_end_to_end import (
    THIRD_PHONE_FROM_2_MARCH, TWO_PHONES_MARCH, entries, new_phone, scene, serving_over_amqp,
)
from tests.support.kazbill_service import wait_for

pytestmark = pytest.mark.integration
__all__ = ["scene"]  # the fixture, shared with the other end-to-end tests
# The 30/31 share of 2,000.00 a month less that of 1,500.00, each share whole units: 4,838,709.
FOURTH_PHONE_FROM_2_MARCH = ("202603-kazbill-mrc-20260301-devices-sip_device-q4", ("debit", 4_838_709))


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def bound_again(queue: str) -> bool:
    """The bridge's queue is bound to `configuration` once more (the exchange is transient, as
    Kazoo declares it: the restart took it and its bindings away)."""
    listed = subprocess.run(["rabbitmqctl", "list_bindings", "-q", "source_name", "destination_name"],
                            capture_output=True, text=True, timeout=60)
    return any(line.split("\t") == ["configuration", queue] for line in listed.stdout.splitlines())


def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(scene):
    world, customers, service = scene
    with serving_over_amqp(service) as (kazbill, depths):
        queue = kazbill.env["KAZBILL_AMQP_QUEUE"]
        wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
        third = [new_phone(world, customer, 1) for customer in customers]
        asyncio.run(publish([change("doc_created", c, "device", d) for c, d in zip(customers, third)]))
        rabbitmqctl("stop_app")  # the events may or may not have been handed off: either is fine
        try:
            assert kazbill.process.poll() is None, kazbill.log()  # the service waits for the broker
        finally:
            rabbitmqctl("start_app")
        wait_for(lambda: bound_again(queue), 120, f"the bridge to bind its queue again\n{kazbill.log()}")
        connect(kazbill.admin_port, timeout_s=120).crawl_now()  # today's crawl: what the restart dropped
        assert all(THIRD_PHONE_FROM_2_MARCH[0] in entries(world, c) for c in customers)
        fourth = [new_phone(world, customer, 2) for customer in customers]
        asyncio.run(publish([change("doc_created", c, "device", d) for c, d in zip(customers, fourth)]))
        wait_for(lambda: all(FOURTH_PHONE_FROM_2_MARCH[0] in entries(world, c) for c in customers), 120,
                 f"the phones announced after the restart, over AMQP\n{kazbill.log()}")
        assert kazbill.stop() == 0, kazbill.log()
    assert list(depths.values()) == [0, 0, 0]
    for customer in customers:
        assert entries(world, customer) == dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH,
                                                 FOURTH_PHONE_FROM_2_MARCH])
