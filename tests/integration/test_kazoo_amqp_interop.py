"""`kazbill serve` with the AMQP bridge only, on the machine's RabbitMQ, hearing what Kazoo 4.3
sends the way Kazoo builds it (testkit/support/kazoo_amqp.py): call legs of every kind stepswitch
makes, calls jonny5 debits itself, a plan assigned in Kazoo (the account's services document),
and Kazoo's standing request. No changes feed runs and the clock stands still, so whatever is
billed here was billed by the message, at once; what cannot be billed by is stored, naming its field."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import aio_pika
import pytest

from actors.bridges.amqp_calls import EXCHANGE as CALLEVT
from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, SERVICES_DB, account_db, account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.rating.rate_decks import import_rate_deck
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support import kazoo_amqp as kazoo
from testkit.support.broker import wait_drained
from testkit.support.kazbill_service import KazbillService, bridge_bound, bridge_queues, wait_for
from tests.integration.conftest import CleaningStore, open_store
from tests.integration.test_amqp_config_bridge import AMQP_URL, publish, queue_depth_then_delete
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=MSK)
ENDED = int(datetime(2026, 3, 2, 13, 55, tzinfo=MSK).timestamp()) + GREGORIAN_UNIX_OFFSET


@pytest.fixture
def scene(tmp_path):
    store = CleaningStore(open_store("embedded", "", tmp_path))
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(NOW)
    queue = f"kazbill.test.{uuid.uuid4().hex}"
    kazbill = KazbillService(
        tmp_path,
        {
            "KAZBILL_STORE_PATH": str(tmp_path / "kazbill.sqlite3"),
            "KAZBILL_BRIDGES": "amqp",
            "KAZBILL_AMQP_QUEUE": queue,
        },
        tmp_path / "clock",
    )
    yield store, kazbill, queue
    kazbill.cleanup()
    store.cleanup()


def serve(kazbill: KazbillService) -> None:
    kazbill.start().wait_ready()
    wait_for(
        lambda: bridge_bound(kazbill.log()) and "answering Kazoo's bookkeeper requests" in kazbill.log(),
        what=f"the bridge's queues\n{kazbill.log()}",
    )


def stop_and_delete_queues(kazbill: KazbillService, queue: str) -> list[int]:
    try:
        wait_drained(bridge_queues(queue))
        assert kazbill.stop() == 0, kazbill.log()
    finally:
        depths = [asyncio.run(queue_depth_then_delete(name)) for name in bridge_queues(queue)]
    return depths


def failures(store) -> list[tuple[str, str, str]]:
    if not store.database_exists(FAILURES_DB):
        return []
    return sorted(
        (doc["source"], doc["reason_code"], doc["field"])
        for doc in (
            row.doc
            for row in store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
            if not row.id.startswith("_")
        )
    )


def ledger(store, account_id: str, part: str) -> dict[str, int]:
    db = account_modb(account_id, 2026, 3)
    if not store.database_exists(db):
        return {}
    return {
        row.id: row.doc["amount"]
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
        if part in row.id and row.doc.get("pvt_type") == "ledger"
    }


def test_only_carrier_legs_are_charged_once_and_never_a_call_jonny5_debits(scene):
    store, kazbill, queue = scene
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "default_rate_deck": "retail"}, plan=OFFICE_PLAN)
    assert import_rate_deck(
        store, world.reseller, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60"]
    ).report.ok
    talker, neighbour = (
        world.customer(name, created=datetime(2026, 1, 10, tzinfo=MSK), onbill={}, limits=GENEROUS)
        for name in ("Talker", "Neighbour")
    )
    reseller = world.reseller
    # jonny5 debited this call a second after it ended, in Kazoo's (UTC) month.
    store.ensure_database(account_modb(talker, 2026, 3))
    store.put(
        account_modb(talker, 2026, 3), kazoo.jonny5_ledger(talker, "call-j5-debited", 24_000, 120, ENDED + 2, "202603")
    )

    def leg(call_id, ccv, direction="outbound", **kwargs):
        return kazoo.channel_destroy(
            call_id, ccv, direction=direction, billing_seconds=61, callee="+74951234567", timestamp=ENDED, **kwargs
        )

    offnet = leg("call-offnet", kazoo.offnet_termination_ccv(talker, reseller))
    events = [
        offnet,
        offnet,  # the broker delivers it twice
        leg("call-in", kazoo.offnet_origination_ccv(talker), direction="inbound"),
        leg("call-onnet", kazoo.onnet_termination_ccv(talker, reseller, neighbour)),
        leg("call-j5-debited", kazoo.offnet_termination_ccv(talker, reseller)),
        leg("call-j5-pending", kazoo.offnet_termination_ccv(talker, reseller, **kazoo.jonny5_per_minute_ccv(12_000))),
        leg("call-bad-kind", {**kazoo.offnet_termination_ccv(talker, reseller), "Resource-Type": 42}),
        leg("call-bad-billing", kazoo.offnet_termination_ccv(talker, reseller, **{"Account-Billing": {"x": 1}})),
    ]
    serve(kazbill)
    asyncio.run(publish(events, CALLEVT))
    wait_for(
        lambda: len(ledger(store, talker, "-kazbill-call-")) == 2 and len(failures(store)) == 2,
        what=f"the carrier legs charged and the bad ones stored\n{kazbill.log()}",
    )
    assert stop_and_delete_queues(kazbill, queue) == [0, 0, 0]
    assert ledger(store, talker, "-kazbill-call-") == {
        "202603-kazbill-call-call-offnet": 24_000,  # 61 s: 2 min at 1.20
        "202603-kazbill-call-call-in": 24_000,
    }
    assert ledger(store, neighbour, "-kazbill-call-") == {}
    assert failures(store) == [
        ("amqp", "invalid_value", "Custom-Channel-Vars.Account-Billing"),
        ("amqp", "invalid_value", "Custom-Channel-Vars.Resource-Type"),
    ]
    assert kazbill.leftovers() == []


async def ask_standing(request: tuple[str, bytes], server_id: str, timeout_s: float = 60.0) -> dict:
    """What kz_amqp_worker:call does for kz_services_standing: a queue of its own on `targeted`
    named by Server-ID, the request on `bookkeepers`, the first reply with its Msg-ID."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        targeted = await channel.declare_exchange("targeted", aio_pika.ExchangeType.DIRECT, durable=False)
        replies = await channel.declare_queue(server_id, exclusive=True, auto_delete=True)
        await replies.bind(targeted, routing_key=server_id)
        requests = await channel.declare_exchange("bookkeepers", aio_pika.ExchangeType.TOPIC, durable=False)
        await requests.publish(aio_pika.Message(request[1], content_type="application/json"), routing_key=request[0])
        async with replies.iterator(timeout=timeout_s) as incoming:
            async for message in incoming:
                await message.ack()
                return json.loads(message.body)
    raise AssertionError("no standing_resp")


def standing_of(store, account_id: str) -> dict:
    return store.get_many(account_db(account_id), ["kazbill_standing"]).get("kazbill_standing") or {}


def test_a_plan_assigned_in_kazoo_is_billed_at_once_and_standing_requests_are_answered(scene):
    store, kazbill, queue = scene
    onbill = {key: value for key, value in RESELLER_ONBILL.items() if key != "default_service_plan"}
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
    created = datetime(2026, 1, 10, tzinfo=MSK)
    planless = world.customer("Planless", created=created, onbill={"billing_day": 1}, limits=GENEROUS, devices=2)
    broke = world.customer(
        "Broke",
        created=created,
        onbill={"billing_day": 1},
        devices=2,
        plans=["plan_office"],
        limits={"pvt_allow_postpay": False},
    )
    serve(kazbill)
    # The start-up pass has looked at both: nothing to charge the one, March unpaid for the other.
    wait_for(
        lambda: standing_of(store, planless) and standing_of(store, broke).get("status") == "delinquent",
        what=f"the start-up pass\n{kazbill.log()}",
    )
    assert ledger(store, planless, "-kazbill-") == {}
    # Kazoo assigns the plan: kz_services saves the services document and kzs_publish announces it.
    services = store.get(SERVICES_DB, planless)
    saved = store.put(SERVICES_DB, {**services, "plans": {"plan_office": {"account_id": world.reseller}}})
    newcomer = new_account_id()  # Kazoo writes a new account's services document before its account
    asyncio.run(
        publish(
            [
                kazoo.services_doc_edited(newcomer, "1-a"),
                kazoo.services_doc_edited(planless, saved.rev),
                kazoo.services_doc_edited(planless, saved.rev, **{"Account-ID": world.reseller}),
            ]
        )
    )
    wait_for(
        lambda: ledger(store, planless, "-kazbill-mrc-") and failures(store),
        what=f"the plan's charge and the contradicting notice stored\n{kazbill.log()}",
    )

    server = f"targeted/kazoo_apps@kz1/kz_amqp_worker-{uuid.uuid4().hex}"
    good = asyncio.run(ask_standing(kazoo.standing_req(planless, server, msg_id="m-good"), server))
    bad = asyncio.run(ask_standing(kazoo.standing_req(broke, server, msg_id="m-broke"), server))
    stranger = asyncio.run(ask_standing(kazoo.standing_req("f" * 32, server, msg_id="m-who"), server))
    asyncio.run(publish([kazoo.standing_req("nobody", server)], "bookkeepers"))  # stored, never answered
    wait_for(lambda: len(failures(store)) == 2, what=f"the malformed standing request stored\n{kazbill.log()}")
    assert stop_and_delete_queues(kazbill, queue) == [0, 0, 0]

    assert (good["Event-Name"], good["Msg-ID"], good["Status"]) == ("standing_resp", "m-good", "good_standing")
    assert (bad["Msg-ID"], bad["Status"], bad["Reason"]) == ("m-broke", "delinquent", "delinquent")
    assert bad["Message"] == "; ".join(standing_of(store, broke)["reasons"])
    assert (stranger["Msg-ID"], stranger["Status"], stranger["Reason"]) == ("m-who", "error", "unknown_account")
    # Nothing for the newcomer: not billable yet, and no failure either.
    assert failures(store) == [("amqp", "inconsistent", "Account-ID"), ("amqp", "invalid_value", "Account-ID")]
    assert kazbill.leftovers() == []
