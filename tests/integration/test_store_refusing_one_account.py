"""`kazbill serve` on a store that refuses one customer's databases (a 500 on each of its
requests) while it answers everything else: Kazbill cannot tell that from the store being away, so
the customer's work is handed back, as in an outage. Handed back for ever, it held the crawl's day
(and every reseller after it) and requeued each batch of events it was in, and nothing was stored
for a person. Now the others are billed at once, the customer's work is stored as a failure after
five refusals in a row (its events settled; KAZBILL_STORE_REFUSED_FOR, the span they must cover
too, is 0 here), and `kazbill failures replay` bills it once mended."""

from __future__ import annotations

import asyncio
import os
import subprocess
from urllib.parse import quote

import pytest

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.support.bus import change, publish
from testkit.support.kazbill_service import wait_for
from testkit.support.refusing_proxy import RefusingProxy
from tests.integration import test_serve_end_to_end as end_to_end
from tests.integration.test_serve_end_to_end import (
    THIRD_PHONE_FROM_2_MARCH,
    TWO_PHONES_MARCH,
    entries,
    new_phone,
    serving_over_amqp,
    stop_drained,
)
from tests.integration.test_shard_hang import crawled
from tests.integration.test_status import KAZBILL

pytestmark = pytest.mark.integration
scene = end_to_end.scene  # the same reseller and three customers as the end-to-end tests (a fixture)


def refusals(store, account_id: str) -> list[dict]:
    try:
        rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    except DatabaseNotFound:
        return []
    return sorted(
        (
            row.doc
            for row in rows
            if row.doc
            and row.doc.get("reason_code") == "billing_store_refused"
            and row.doc["payload"]["account_id"] == account_id
        ),
        key=lambda doc: str(doc["payload"]["day"]),
    )


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_a_customer_the_store_refuses_alone_holds_no_one_back_and_is_stored_for_replay(scene):
    world, customers, service = scene
    victim, others = customers[0], customers[1:]
    with RefusingProxy(world.couch_url) as proxy:
        proxy.refuse(quote(account_db(victim), safe=""))  # its account database and its months

        def refusing_service(**env: str):
            return service(
                **env,
                KAZBILL_STORE_URL=proxy.url,
                KAZBILL_SHARDS="1",  # everyone billed by the shard that meets the refusals
                KAZBILL_SCHEDULER_INTERVAL="1",  # a crawl tick a second: five refusals in seconds
                KAZBILL_STORE_REFUSED_FOR="0",  # (five minutes at least, by default)
            )

        with serving_over_amqp(refusing_service) as (kazbill, depths):
            wait_for(
                lambda: crawled(world) == "2026-03-02", 120, what=f"the day crawled despite the victim\n{kazbill.log()}"
            )
            assert all(entries(world, c) == dict([TWO_PHONES_MARCH]) for c in others)
            assert entries(world, victim) == {}
            [crawl_refused] = refusals(world.store, victim)
            phones = [change("doc_created", c, "device", new_phone(world, c, n)) for n, c in enumerate(customers)]
            asyncio.run(publish(phones))
            wait_for(
                lambda: all(len(entries(world, c)) == 2 for c in others),
                60,
                what=f"the others' phones charged beside the victim's refused event\n{kazbill.log()}",
            )
            wait_for(
                lambda: len(refusals(world.store, victim)) == 2,
                120,
                what=f"the victim's event stored after five refusals\n{kazbill.log()}",
            )
            proxy.accept()  # the database mended, a person replays what was stored
            for failure in refusals(world.store, victim):
                replayed = subprocess.run(
                    [KAZBILL, "failures", "replay", failure["_id"]],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    env={
                        **os.environ,
                        "KAZBILL_ACTOR_PORT": str(kazbill.admin_port),
                        "KAZBILL_STORE_URL": world.couch_url,
                    },
                )
                assert replayed.returncode == 0, replayed.stdout + replayed.stderr + kazbill.log()
                assert "done" in replayed.stdout and "record deleted" in replayed.stdout, replayed.stdout
            assert stop_drained(kazbill) == 0, kazbill.log()
    assert crawl_refused["payload"]["day"] == "2026-03-02"
    assert crawl_refused["reason"].startswith("the store refused this work 5 times in a row over 0s while answering")
    assert "HTTP 500" in crawl_refused["reason"] and "127.0.0.1" not in crawl_refused["reason"]
    assert refusals(world.store, victim) == []  # replayed, done, deleted
    assert list(depths.values()) == [0, 0, 0]  # the victim's event settled (its failure stored), not looping
    for customer in customers:  # the victim's too, once replayed: each charge once
        assert entries(world, customer) == dict([TWO_PHONES_MARCH, THIRD_PHONE_FROM_2_MARCH])
    assert kazbill.leftovers() == []
