"""`kazbill serve` with a shard that hangs: one customer's database stops answering (the store
took the request and went silent, and the store timeout is longer than the hang), so the shard
billing that customer sits on one piece of work. The supervisor must notice by the clock, kill
the shard and restart it, store the work it hung on as a failure for a person (answered to the
bridge within its wait, so the event is settled), and go on billing everyone else; once the
store answers again, `kazbill failures replay` bills the stored work. Without the watch the
shard's accounts stop billing and the event loops between the bridge's hand-off timeout and the
queue for ever."""

from __future__ import annotations

import asyncio
import os
import subprocess
from urllib.parse import quote

import pytest

from bookkeeper.domain.kazoo_names import SYSTEM_DB, account_db
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.support.bus import change, publish
from testkit.support.kazbill_service import wait_for
from testkit.support.stalling_proxy import StallingProxy
from tests.integration import test_serve_end_to_end as end_to_end
from tests.integration.test_serve_end_to_end import (
    THIRD_PHONE_FROM_2_MARCH,
    TWO_PHONES_MARCH,
    entries,
    new_phone,
    serving_over_amqp,
    stop_drained,
)
from tests.integration.test_status import KAZBILL, status

pytestmark = pytest.mark.integration
scene = end_to_end.scene  # the same reseller and three customers as the end-to-end tests (a fixture)
DEADLINE_S = 10  # the start-up crawl through the proxy must fit in it on a slow machine


def crawled(world) -> str | None:
    """The last day the scheduler recorded as crawled for the scene's reseller."""
    state = get_or_none(world.store, SYSTEM_DB, f"kazbill_crawl-{world.reseller}") or {}
    return state.get("last_day")


def shard_failures(store, account_id: str) -> list[dict]:
    try:
        rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    except DatabaseNotFound:
        return []
    return [
        row.doc
        for row in rows
        if row.doc
        and row.doc.get("reason_code") == "shard_work_failed"
        and account_id in row.doc["payload"]["account_ids"]
    ]


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_a_shard_hung_on_one_account_is_killed_restarted_and_the_others_go_on_billing(scene):
    world, customers, service = scene
    victim, others = customers[0], customers[1:]
    with StallingProxy(world.couch_url) as proxy:

        def hanging_service(**env: str):
            return service(
                **env,
                KAZBILL_STORE_URL=proxy.url,
                KAZBILL_STORE_TIMEOUT="3600",  # a silent store is a hang, not an outage
                KAZBILL_SHARD_WORK_DEADLINE=str(DEADLINE_S),
                KAZBILL_SHARDS="1",  # everyone billed by the shard that hangs
                KAZBILL_SCHEDULER_INTERVAL="3600",  # the start-up crawl only
            )

        with serving_over_amqp(hanging_service) as (kazbill, depths):
            wait_for(lambda: all(entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
            wait_for(lambda: crawled(world) == "2026-03-02", what=f"the start-up crawl answered\n{kazbill.log()}")
            proxy.stall(quote(account_db(victim), safe=""))  # its account database and its months
            asyncio.run(publish([change("doc_created", victim, "device", new_phone(world, victim, 0))]))
            wait_for(
                lambda: shard_failures(world.store, victim),
                60,
                what=f"the hung work stored as a failure\n{kazbill.log()}",
            )
            shown = status(
                {
                    "KAZBILL_ACTOR_PORT": str(kazbill.admin_port),
                    "KAZBILL_STORE_URL": world.couch_url,  # (status reads the store too)
                    "KAZBILL_AMQP_QUEUE": kazbill.env["KAZBILL_AMQP_QUEUE"],
                }
            )["service"]
            assert shown["shards_killed_hung"] == 1 and shown["restarts"] == 1 and not shown["giving_up"]
            phones = [change("doc_created", c, "device", new_phone(world, c, n)) for n, c in enumerate(others, 1)]
            asyncio.run(publish(phones))
            wait_for(
                lambda: all(len(entries(world, c)) == 2 for c in others),
                60,
                what=f"the other customers' phones charged after the hang\n{kazbill.log()}",
            )
            # The cause found (the store answers again), a person replays the failed work.
            proxy.release()
            [failure] = shard_failures(world.store, victim)
            replayed = subprocess.run(
                [KAZBILL, "failures", "replay", failure["_id"]],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "KAZBILL_ACTOR_PORT": str(kazbill.admin_port), "KAZBILL_STORE_URL": world.couch_url},
            )
            assert replayed.returncode == 0, replayed.stdout + replayed.stderr + kazbill.log()
            assert "reconcile of 1 account done, 1 charged; record deleted" in replayed.stdout, replayed.stdout
            assert stop_drained(kazbill) == 0, kazbill.log()
        assert proxy.held  # the victim's database was asked, and never answered
    log = kazbill.log()
    assert log.count(f"has answered nothing for {DEADLINE_S}s") == 1, log
    assert failure["payload"]["account_ids"] == [victim]
    assert failure["reason"] == f"the shard hung on this work (no answer in {DEADLINE_S}s) and was killed"
    assert shard_failures(world.store, victim) == []  # replayed, done, deleted
    assert list(depths.values()) == [0, 0, 0]  # the victim's event settled (its failure stored), not looping
    for customer in customers:  # the victim's phone too, once replayed
        assert entries(world, customer) == dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH])
    assert kazbill.leftovers() == []
