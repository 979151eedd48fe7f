"""One poison input must not stop billing for everyone (issue 20): documents on the changes feed
that Python cannot read or bill by, and configuration messages that cannot be parsed, are each
recorded once in kazbill_failures with the reason, the feed's checkpoint and the queue move past
them, and what comes after them is billed. Real CouchDB-compatible server, real RabbitMQ, the real
follower and bridge, the real billing pass."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pytest

from actors.bridges.couch_changes import CHECKPOINT_ID, ChangesFollower
from actors.messages import HandOffDone
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
from testkit.support.kazbill_service import wait_for
from tests.integration import test_serve_end_to_end as end_to_end
from tests.integration.conftest import CleaningStore
from tests.integration.test_amqp_config_bridge import change, make_bridge, run_bridge
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

pytestmark = pytest.mark.integration
NOW = gregorian(datetime(2026, 11, 2, 12, 0, tzinfo=MSK))
ADDED = gregorian(datetime(2026, 11, 2, 11, 0, tzinfo=MSK))
ONE_MORE_PHONE = 4_833_333  # 500.00 for the 29 of November's 30 days left, with today counted


def nested(depth: int) -> str:
    return '{"next":' * depth + "1" + "}" * depth


def device_text(account_id: str, doc_id: str, created: int = ADDED, **raw_fields: str) -> str:
    """A device document as JSON text, some of its values given as raw JSON: CouchDB stores what
    Kazoo's API was sent, and Python's json could not even write these."""
    doc = json.dumps(
        stamp(
            {"_id": doc_id, "name": doc_id, "device_type": "sip_device", "enabled": True},
            account_id,
            "device",
            created=created,
        )
    )
    return doc[:-1] + "".join(f', "{name}": {raw}' for name, raw in raw_fields.items()) + "}"


def put_text(couch_url: str, db: str, doc_id: str, text: str) -> bool:
    """True when the server stored the text; False when it refused it as bad JSON (400): CouchDB 3
    refuses a lone surrogate, which pouchdb-server keeps. Either way nothing poisonous is left for
    the feed to read, and the tests hold Kazbill to whichever the server did."""
    # A real CouchDB's URL carries its admin's credentials, which urllib will not take from a URL.
    parts = urlsplit(couch_url)
    headers = {"Content-Type": "application/json"}
    if parts.username is not None:
        login = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    request = urllib.request.Request(
        f"{bare}/{quote(db, safe='')}/{doc_id}", data=text.encode(), method="PUT", headers=headers
    )
    try:
        with urllib.request.urlopen(request) as answer:
            assert answer.status in (200, 201)
    except urllib.error.HTTPError as refused:
        if refused.code != 400:
            raise
        return False
    return True


def feed_failures(store) -> list[dict]:
    try:
        rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    except DatabaseNotFound:
        return []
    return [row.doc for row in rows if row.doc and row.doc.get("pvt_type") == "failure"]


@pytest.fixture
def couch(own_couch_url):
    store = CleaningStore(CouchDbStore(own_couch_url))
    yield store
    store.cleanup()


def test_poison_documents_on_the_feed_are_recorded_once_passed_and_what_follows_is_billed(couch, own_couch_url):
    world = World(couch).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    poisoned = world.customer(
        "Poisoned", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    healthy = world.customer(
        "Healthy", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    ports = BillingPorts(couch, SettableClock(datetime(2026, 11, 2, 12, 0, tzinfo=MSK)), world.design_docs)
    handed: list[str] = []

    def bill(account_ids):  # the shards' part, in-process: the real billing pass over each account
        handed.extend(account_ids)
        outcome = bill_accounts(ports, list(account_ids))
        return HandOffDone("batch", outcome.done, outcome.failed, outcome.not_done)

    follower = ChangesFollower(couch, bill, poll_s=0, now_gregorian=lambda: NOW)
    follower.step()  # the first charges, and every checkpoint at the end of its feed
    deadline = time.monotonic() + 60  # both databases reported by _db_updates (it lags, as below)
    while not {poisoned, healthy} <= set(handed) and time.monotonic() < deadline:
        time.sleep(0.2)
        follower.step()
    before = {account: kazbill_entries(couch, account, [(2026, 11)]) for account in (poisoned, healthy)}
    db = account_db(poisoned)
    assert put_text(own_couch_url, db, "device-deep", device_text(poisoned, "device-deep", provision=nested(1200)))
    surrogate_kept = put_text(
        own_couch_url, db, "device-surrogate", device_text(poisoned, "device-surrogate", label='"\\ud800 desk"')
    )
    put_text(own_couch_url, db, "device-infinite", device_text(poisoned, "device-infinite", ring_timeout="1e999999"))
    world.add_devices(healthy, 1, created=datetime(2026, 11, 2, 11, 0, tzinfo=MSK))
    handed.clear()

    # CouchDB's _db_updates reports a database a moment after its write, each database on its own
    # (more under a loaded suite: CI once saw the poison before the healthy account's phone): the
    # follower steps until both are seen, and stepping again records nothing twice.
    follower.step()
    deadline = time.monotonic() + 60
    while not (feed_failures(couch) and {poisoned, healthy} <= set(handed)) and time.monotonic() < deadline:
        time.sleep(0.2)
        follower.step()
    recorded = sorted((f["payload"]["id"], f["reason_code"], f["field"], f["account_id"]) for f in feed_failures(couch))
    assert recorded == [("device-deep", "unreadable_document", "doc", poisoned)] + (
        [("device-surrogate", "invalid_text", "label", poisoned)] if surrogate_kept else []
    )
    assert "RecursionError" in next(f["reason"] for f in feed_failures(couch) if f["payload"]["id"] == "device-deep")
    # The checkpoint moved past the poison: nothing of the account's feed is left to read.
    assert couch.changes(db, couch.get_local(db, CHECKPOINT_ID)["seq"]).changes == []
    # What came after the poison was billed: the healthy account's new phone, and the poisoned
    # account too (its deep device is a phone like any other; pouchdb-server keeps the infinite
    # number as null, another phone, where CouchDB refuses the document).
    assert healthy in handed and poisoned in handed
    new = {
        account: {k: v for k, v in kazbill_entries(couch, account, [(2026, 11)]).items() if k not in before[account]}
        for account in (poisoned, healthy)
    }
    assert [amount for _, amount in new[healthy].values()] == [ONE_MORE_PHONE]
    assert new[poisoned]  # the billing pass over the poisoned account survived its documents
    assert [f for f in feed_failures(couch) if f["source"] == "shard"] == []

    follower.step()  # read again from the checkpoint: nothing handed twice, nothing recorded twice
    assert len(feed_failures(couch)) == 1 + surrogate_kept


def test_a_document_the_billing_pass_cannot_read_fails_its_own_account_only_and_is_recorded(couch, own_couch_url):
    # Nested where a view emits it, the device's type reaches the billing pass itself: that
    # account cannot be counted until the document is mended, and says so; the others are billed.
    world = World(couch).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    poisoned, surrogate, healthy = (
        world.customer(
            name, created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
        )
        for name in ("Poisoned", "Surrogate", "Healthy")
    )
    ports = BillingPorts(couch, SettableClock(datetime(2026, 11, 2, 12, 0, tzinfo=MSK)), world.design_docs)
    bill_accounts(ports, [poisoned, surrogate, healthy])
    put_text(
        own_couch_url,
        account_db(poisoned),
        "device-deep",
        device_text(poisoned, "device-deep").replace('"device_type": "sip_device"', f'"device_type": {nested(1200)}'),
    )
    put_text(
        own_couch_url,
        account_db(surrogate),
        "device-odd",
        device_text(surrogate, "device-odd").replace('"device_type": "sip_device"', '"device_type": "\\ud800"'),
    )
    world.add_devices(healthy, 1, created=datetime(2026, 11, 2, 11, 0, tzinfo=MSK))
    outcome = bill_accounts(ports, [poisoned, surrogate, healthy])
    assert set(outcome.done) == {surrogate, healthy}
    assert [(account, reason.split(":")[0]) for account, reason in outcome.failed] == [(poisoned, "RecursionError")]
    assert [(f["source"], f["reason_code"], f["account_id"]) for f in feed_failures(couch)] == [
        ("shard", "billing_crashed", poisoned)
    ]


scene = end_to_end.scene  # a reseller and three customers, and `kazbill serve` to run over them (a fixture)


@pytest.mark.parametrize("scene", ["couchdb"], indirect=True)
def test_serve_keeps_billing_everyone_past_a_device_nested_1200_levels_deep(scene):
    # The issue as it was met: the changes bridge crashed on this document at every restart
    # until `serve` gave up (exit 70), and no account was billed any more.
    world, customers, service = scene
    kazbill = service(KAZBILL_BRIDGES="couchdb").start().wait_ready()
    wait_for(lambda: all(end_to_end.entries(world, c) for c in customers), what=f"the first charges\n{kazbill.log()}")
    put_text(
        world.couch_url,
        account_db(customers[0]),
        "device-deep",
        device_text(
            customers[0], "device-deep", gregorian(datetime(2026, 3, 2, 13, 0, tzinfo=MSK)), provision=nested(1200)
        ),
    )
    end_to_end.new_phone(world, customers[1], 1)
    wait_for(lambda: len(end_to_end.entries(world, customers[1])) == 2, what=f"the new phone's charge\n{kazbill.log()}")
    wait_for(lambda: feed_failures(world.store), what=f"the poison document's record\n{kazbill.log()}")
    assert kazbill.stop() == 0, kazbill.log()  # still serving when asked to stop
    assert [(f["source"], f["reason_code"], f["payload"]["id"]) for f in feed_failures(world.store)] == [
        ("couchdb_feed", "unreadable_document", "device-deep")
    ]


# --------------------------------------------------------------------------- the configuration exchange


@pytest.fixture
def amqp_store(tmp_path):
    from bookkeeper.adapters.embedded import EmbeddedStore
    from bookkeeper.design_docs import load_design_docs
    from bookkeeper.services.setup import store_setup

    store = EmbeddedStore(tmp_path / "bridge.sqlite3")
    store_setup.initialise(store, load_design_docs())
    yield store
    store.close()


@pytest.mark.parametrize(
    "poison, reason_code",
    [
        (lambda body: body[:-1] + b', "Extra": ' + nested(1200).encode() + b"}", "too_deep"),
        (lambda body: body[:-1] + b', "Extra": "\\ud800"}', "invalid_text"),
        (lambda body: body[:-1] + b', "Extra": 1e999999}', "invalid_number"),
        (lambda body: body[:-1] + b', "Extra": ' + b"9" * 5000 + b"}", "malformed_json"),
        (lambda body: body[:-1] + b', "Extra": "\xff\xfe"}', "malformed_json"),
    ],
    ids=["nested-1200", "lone-surrogate", "infinite", "5000-digits", "invalid-utf8"],
)
def test_a_configuration_message_that_cannot_be_parsed_is_stored_once_and_the_next_is_handed_off(
    amqp_store, poison, reason_code
):
    account = f"{uuid.uuid4().hex}"
    bridge = make_bridge(amqp_store)
    key, body = change("doc_created", account, "device", "device1")

    def stored() -> list:
        return [
            row.doc
            for row in amqp_store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
            if row.doc and row.doc.get("pvt_type") == "failure"
        ]

    depth = run_bridge(
        bridge,
        [
            (key, poison(body)),
            (key, poison(body)),  # delivered twice: recorded once
            change("doc_created", account, "device", "device2"),
        ],
        expect_changes=1,
        store_watch=lambda: len(stored()) == 1,
    )
    (failure,) = stored()
    assert (failure["source"], failure["reason_code"]) == ("amqp", reason_code)
    assert failure["field"] in ("body", "Extra")
    assert failure["payload"]["routing_key"] == key
    assert [c.doc_id for batch in bridge.seen for c in batch] == ["device2"]  # the next message goes on
    assert depth == 0  # every message acknowledged: none left to come back forever
