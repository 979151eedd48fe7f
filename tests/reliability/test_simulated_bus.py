"""A simulated week across a month end on CouchDB, with Kazoo's AMQP notices and call events
published as Kazoo publishes them, every one of them duplicated or not and the day's messages
reordered, and `kazbill serve` following both the bus and the changes feed (as an operator runs
it: the bus for speed, the feed so that nothing the broker loses is lost). Faults: the broker
restarted with the day's messages unconsumed, the AMQP bridge SIGKILLed with messages in its
hands, the store unreachable while the day's traffic arrives, the clock jumped back across the
month end and forward again. Afterwards the audit finds no difference and no failure awaits a
person; the counts are printed."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import aiormq
import pytest

from actors.system import connect
from bookkeeper.config import Settings
from entrypoints.simulation.cluster import Scale
from entrypoints.simulation.kazoo_bus import KazooBus, Message
from entrypoints.simulation.run import SimulationRun
from testkit.support.broker import broker_is_up, rabbitmq_app, wait_consumed, wait_drained
from testkit.support.kazbill_service import KazbillService, bridge_bound, bridge_queues, wait_for
from testkit.support.tcp_proxy import TcpProxy
from tests.integration.test_amqp_config_bridge import queue_depth_then_delete
from tests.reliability.support import audit_run, bridge_pids, described, failures, ledger_entries

# Also on a cluster when one is available; a week there takes ten minutes and more on 2 busy cores:
# the timeout only guards against a hang.
pytestmark = [pytest.mark.integration, pytest.mark.couchdb_cluster(heavy=True), pytest.mark.timeout(2400)]
FIRST_DAY, DAYS = date(2026, 11, 27), 7  # 27 Nov - 3 Dec
BROKER_RESTART, BRIDGE_KILL, MONTH_START, STORE_CUT = 1, 2, 4, 5
JUST_BEFORE_MIDNIGHT_IN_MOSCOW = datetime(2026, 11, 30, 20, 59, 30, tzinfo=UTC)


class Shuffled:
    """The day's deliveries: each message once or twice (a third are sent again), all reordered."""

    def __init__(self, seed: int):
        self.random, self.copies = random.Random(seed), 0

    def __call__(self, messages: list[Message]) -> list[Message]:
        again = [message for message in messages if self.random.randrange(3) == 0]
        self.copies += len(again)
        delivered = messages + again
        self.random.shuffle(delivered)
        return delivered


def test_a_simulated_week_on_the_bus_through_restarts_and_outages_audits_clean(own_couch_url, tmp_path, capsys):
    settings = dataclasses.replace(Settings(), store_url=own_couch_url)
    clock_file, queue = str(tmp_path / "clock"), f"kazbill.test.{uuid.uuid4().hex}"
    deliveries = Shuffled(27)
    bus = KazooBus(settings.amqp_url, deliveries)
    run = SimulationRun(
        settings,
        clock_file,
        Scale(
            resellers=3,
            accounts=9,
            change_percent=50,
            signup_percent=30,
            seed=20261127,
            call_percent=50,
            close_percent=15,
        ),
        FIRST_DAY,
        bus,
    )
    run.seed()
    proxy = TcpProxy(urlsplit(own_couch_url).port).start()
    service = KazbillService(
        tmp_path,
        {
            "KAZBILL_STORE_URL": proxy.via(own_couch_url),
            "KAZBILL_STORE_TIMEOUT": "5",
            "KAZBILL_BRIDGES": "amqp,couchdb",
            "KAZBILL_AMQP_QUEUE": queue,
        },
        clock_file,
    )
    faults = {"broker restarts": 0, "bridge kills": 0, "store outages": 0, "clock jumps": 0}
    try:
        service.start().wait_ready()
        wait_for(lambda: bridge_bound(service.log()), what=f"the bridge's queues\n{service.log()}")
        client = connect(service.admin_port, timeout_s=300)
        run.wait_followed()
        for offset in range(DAYS):
            run.morning(offset, client)
            if offset == MONTH_START:  # back to a second before Moscow's midnight, then forward again
                before = ledger_entries(run.ports.store)
                run.clock.set(JUST_BEFORE_MIDNIGHT_IN_MOSCOW)
                client.crawl_now()
                run.morning(offset, client)
                assert ledger_entries(run.ports.store) == before
                faults["clock jumps"] += 1
            if offset == STORE_CUT:
                proxy.cut()  # Kazbill loses the store while Kazoo writes and publishes the day
            run.afternoon(offset)
            if offset == BROKER_RESTART:  # the day's messages are gone with it: the feed has them
                rabbitmq_app("stop_app")
                rabbitmq_app("start_app")
                assert broker_is_up()
                wait_consumed(bridge_queues(queue))
                faults["broker restarts"] += 1
            if offset == BRIDGE_KILL:
                pids = bridge_pids(clock_file, "amqp")
                assert len(pids) == 1, pids
                os.kill(pids[0], signal.SIGKILL)
                faults["bridge kills"] += 1
            if offset == STORE_CUT:
                time.sleep(3)  # the bridges and the shards meet the outage
                proxy.restore()
                faults["store outages"] += 1
            wait_consumed(bridge_queues(queue))  # a bridge killed on the day is back (drained needs it)
            wait_drained(bridge_queues(queue))
            run.wait_followed()
        run.morning(DAYS, client)
        assert service.stop() == 0, service.log()
    finally:
        service.cleanup()
        proxy.stop()
        for name in bridge_queues(queue):
            # never declared (the service did not start)
            with contextlib.suppress(aiormq.exceptions.ChannelNotFoundEntity):
                asyncio.run(queue_depth_then_delete(name))

    differences, unreadable = audit_run(run, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    with capsys.disabled():
        print(
            f"\nreliability (bus): {DAYS} simulated days on CouchDB, {len(run.cluster.customers)} customers "
            f"({run.cluster.counts.signups} signed up, {run.cluster.counts.closes} closed), "
            f"{bus.published} AMQP messages published ({deliveries.copies} of them second copies, every day "
            f"reordered), {len(run.cluster.calls)} billable calls as CHANNEL_DESTROY and CDR; "
            + ", ".join(f"{n} {what}" for what, n in faults.items())
            + f"; differences found: {len(differences)}"
        )
    assert deliveries.copies > 0 and len(run.cluster.calls) > 0 and run.cluster.counts.closes > 0
    assert unreadable == [] and differences == [], "\n".join(map(repr, unreadable + differences))
    left = failures(run.ports.store)
    assert left == [], described(left)
    assert all(faults.values()), faults
