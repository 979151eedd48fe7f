"""Per-minute billing as an operator runs it: `kazbill serve` with both bridges, Kazoo's call
events on the real RabbitMQ (`callevt`), CDR documents written into the accounts' monthly
databases on the CouchDB-compatible server, and a customer's balance guarded: each call charged
once whatever source reported it and however often, the phone's leg never, a malformed event
stored, an account the calls leave without funds blocked and unblocked by a payment."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.rating.rate_decks import import_rate_deck
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import ledger_doc
from testkit.support.broker import wait_drained
from testkit.support.bus import ENDED, channel_destroy, publish, publish_calls, queue_depth_then_delete  # noqa: F401
from testkit.support.kazbill_service import KazbillService, bridge_bound, bridge_queues, wait_for
from tests.integration.conftest import CleaningStore, open_store
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=MSK)


def cdr(account: str, call_id: str, seconds: int = 61) -> dict:
    return {
        "_id": f"202603-{call_id}",
        "pvt_type": "cdr",
        "call_id": call_id,
        "billing_seconds": seconds,
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "timestamp": ENDED,
        "custom_channel_vars": {"account_id": account, "resource_id": "carrier-1"},
        "pvt_account_id": account,
        "pvt_created": ENDED,
        "pvt_modified": ENDED,
    }


def call_debits(store, account_id: str) -> dict[str, int]:
    db = account_modb(account_id, 2026, 3)
    if not store.database_exists(db):
        return {}
    return {
        row.id: row.doc["amount"]
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
        if "-kazbill-call-" in row.id
    }


@pytest.fixture
def scene(own_couch_url, tmp_path):
    store = CleaningStore(open_store("couchdb", own_couch_url, tmp_path))
    world = World(store).build(
        reseller_onbill={**RESELLER_ONBILL, "blocking_enabled": True, "default_rate_deck": "retail"}, plan=OFFICE_PLAN
    )
    assert import_rate_deck(
        store,
        world.reseller,
        "retail",
        ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60", "7,3.00,60,60"],
    ).report.ok
    talker, quiet = (
        world.customer(name, created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits=GENEROUS)
        for name in ("Talker", "Quiet")
    )
    prepaid = world.customer(
        "Prepaid", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits={"pvt_allow_postpay": False}
    )
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(NOW)
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    kazbill = KazbillService(
        tmp_path,
        {"KAZBILL_STORE_URL": own_couch_url, "KAZBILL_BRIDGES": "amqp,couchdb", "KAZBILL_AMQP_QUEUE": queue},
        tmp_path / "clock",
    )
    yield world, (talker, quiet, prepaid), kazbill, queue
    kazbill.cleanup()
    store.cleanup()


def test_calls_from_events_and_cdrs_are_charged_once_and_guard_the_balance(scene):
    world, (talker, quiet, prepaid), kazbill, queue = scene
    kazbill.start().wait_ready()
    try:
        wait_for(lambda: bridge_bound(kazbill.log()), what=f"the bridge's queues\n{kazbill.log()}")
        events = [
            channel_destroy(talker, "call-1"),
            channel_destroy(talker, "call-1-phone", leg="phone"),
            channel_destroy(talker, "call-2", seconds=125, number="+79161234567"),
            channel_destroy(quiet, "call-3", seconds=0),  # unanswered: nothing
            ("call.CHANNEL_DESTROY.call-4", b'{"Call-ID": "call-4", "Billing-Seconds": "ten"}'),
        ]
        asyncio.run(publish_calls(events + events[:3]))  # the broker delivers the first three twice
        # The CDRs Kazoo writes: the same call-1 (both sources), and one the events never told of.
        world.store.ensure_database(account_modb(talker, 2026, 3))
        world.store.bulk_put(account_modb(talker, 2026, 3), [cdr(talker, "call-1")])
        world.store.ensure_database(account_modb(prepaid, 2026, 3))
        world.store.bulk_put(account_modb(prepaid, 2026, 3), [cdr(prepaid, "call-5", seconds=30)])
        wait_for(
            lambda: len(call_debits(world.store, talker)) == 2 and call_debits(world.store, prepaid),
            what=f"the calls charged\n{kazbill.log()}",
        )
        wait_for(
            lambda: world.store.get(ACCOUNTS_DB, prepaid).get("pvt_enabled") is False,
            what=f"the prepaid account blocked by its call\n{kazbill.log()}",
        )
        # The customer pays (a credit Kazoo's own UI wrote): the block is lifted.
        world.store.put(
            account_modb(prepaid, 2026, 3),
            ledger_doc(prepaid, 2026, 3, "wire-1", "credit", 1_000_000, "manual_addition", ENDED),
        )
        wait_for(
            lambda: world.store.get(ACCOUNTS_DB, prepaid).get("pvt_enabled") is not False,
            what=f"the prepaid account unblocked by the payment\n{kazbill.log()}",
        )
        wait_drained(bridge_queues(queue))  # the second copies too, before the service is stopped
        assert kazbill.stop() == 0, kazbill.log()
    finally:
        depths = [asyncio.run(queue_depth_then_delete(name)) for name in bridge_queues(queue)]
    assert depths == [0, 0, 0]
    assert call_debits(world.store, talker) == {
        "202603-kazbill-call-call-1": 24_000,  # 61 s: 2 min at 1.20
        "202603-kazbill-call-call-2": 90_000,
    }  # 125 s: 3 min at 3.00
    assert call_debits(world.store, quiet) == {}
    assert call_debits(world.store, prepaid) == {"202603-kazbill-call-call-5": 12_000}  # the minimum minute
    failures = [
        row.doc
        for row in world.store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
        if not row.id.startswith("_")
    ]
    assert [(f["source"], f["reason_code"], f["field"]) for f in failures] == [
        ("amqp", "invalid_value", "Billing-Seconds")
    ]
    assert world.store.get(account_db(prepaid), prepaid).get("pvt_enabled") is not False
    assert kazbill.leftovers() == []
