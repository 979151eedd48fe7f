"""The configuration bridge against the machine's real RabbitMQ: Kazoo-shaped document events
in, batches of changes out, poison stored, and nothing left unacknowledged."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from actors.bridges.amqp_config import ConfigBridge
from actors.bridges.poison import store_rejected
from actors.hand_off import HandOffUnavailable
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.ports import StoreUnavailable, ViewQuery
from bookkeeper.services.setup import store_setup
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support.bus import AMQP_URL, change, publish, queue_depth_then_delete, until_consuming  # noqa: F401 (others import them from here)

pytestmark = pytest.mark.integration
NOW = 63_960_710_400


def run_bridge(bridge: ConfigBridge, messages, expect_changes: int, store_watch=lambda: True):
    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await until_consuming(bridge.queue_name)  # declared and bound
        await publish(messages)
        for _ in range(200):
            await asyncio.sleep(0.1)
            if sum(len(batch) for batch in bridge.seen) >= expect_changes and store_watch():
                break
        stop.set()
        await asyncio.wait_for(task, 30)
        return await queue_depth_then_delete(bridge.queue_name)

    return asyncio.run(scenario())


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "bridge.sqlite3")
    store_setup.initialise(store, load_design_docs())
    yield store
    store.close()


def make_bridge(store, handoff=None):
    seen: list[list] = []

    def collect(batch):
        seen.append(list(batch))

    bridge = ConfigBridge(
        AMQP_URL,
        handoff or collect,
        lambda rejected: store_rejected(store, rejected, NOW),
        lambda: NOW,
        queue_name=f"kazbill.test.{uuid.uuid4().hex[:8]}",
    )
    bridge.seen = seen  # type: ignore[attr-defined]
    return bridge


def failures(store):
    return [
        row.doc
        for row in store.query_view(
            "kazbill_failures", "kazbill_failures", "by_source", ViewQuery(reduce=False, include_docs=True)
        ).rows
    ]


def run_malformed_then_good(bridge: ConfigBridge, store, account: str) -> int:
    """A change whose body is not JSON, then device2's creation; run until one change is
    handed off and one failure stored. The queue's depth after."""
    key, _ = change("doc_created", account, "device", "device1")
    return run_bridge(
        bridge,
        [(key, b"{not json"), change("doc_created", account, "device", "device2")],
        expect_changes=1,
        store_watch=lambda: len(failures(store)) == 1,
    )


def test_document_events_arrive_as_batches_of_changes_and_are_all_acknowledged(store):
    account = new_account_id()
    bridge = make_bridge(store)
    messages = [change("doc_created", account, "device", f"device{n:026d}") for n in range(20)]
    messages += [change("doc_edited", account, "limits", "limits"), change("doc_deleted", account, "user", "user1")]
    messages.append(change("doc_created", account, "vmbox", "vm1"))  # not Kazbill's business: acked, ignored
    depth = run_bridge(bridge, messages, expect_changes=22)
    changes = [c for batch in bridge.seen for c in batch]
    assert len(changes) == 22 and {c.account_id for c in changes} == {account}
    assert [(c.action, c.doc_type) for c in changes[-2:]] == [("edited", "limits"), ("deleted", "user")]
    assert depth == 0 and failures(store) == []


def test_a_malformed_message_is_stored_with_its_reason_and_acknowledged(store):
    account = new_account_id()
    bridge = make_bridge(store)
    depth = run_malformed_then_good(bridge, store, account)
    (stored,) = failures(store)
    assert (stored["source"], stored["reason_code"], stored["payload"]["body"]) == (
        "amqp",
        "malformed_json",
        "{not json",
    )
    assert depth == 0


def test_an_oversized_message_is_stored_cut_short_and_acknowledged_unparsed(store):
    from actors.bridges.kazoo_fields import MAX_MESSAGE_BYTES
    from actors.messages import PAYLOAD_TEXT_LIMIT

    account = new_account_id()
    bridge = make_bridge(store)
    key, body = change("doc_created", account, "device", "device1")
    padded = body[:-1] + b', "Padding": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'  # valid JSON, far too big
    depth = run_bridge(
        bridge,
        [(key, padded), change("doc_created", account, "device", "device2")],
        expect_changes=1,
        store_watch=lambda: len(failures(store)) == 1,
    )
    (stored,) = failures(store)
    assert (stored["source"], stored["reason_code"], stored["field"]) == ("amqp", "oversized", "body")
    assert str(len(padded)) in stored["reason"] and len(stored["payload"]["body"]) <= PAYLOAD_TEXT_LIMIT
    assert [c.doc_id for batch in bridge.seen for c in batch] == ["device2"]  # the next event goes on
    assert depth == 0


def test_a_change_whose_hand_off_fails_twice_is_stored_as_poison_not_retried_forever(store):
    account = new_account_id()
    calls: list[int] = []

    def handoff(batch):
        calls.append(len(batch))
        if any(c.doc_id == "device-bad" for c in batch):
            raise RuntimeError("shard refused it")
        bridge.seen.append(list(batch))

    bridge = make_bridge(store, handoff)
    depth = run_bridge(
        bridge,
        [
            change("doc_created", account, "device", "device-bad"),
            change("doc_created", account, "device", "device-good"),
        ],
        expect_changes=1,
        store_watch=lambda: len(failures(store)) == 1,
    )
    (stored,) = failures(store)
    assert stored["reason_code"] == "handoff_failed" and "shard refused it" in stored["reason"]
    assert [c.doc_id for batch in bridge.seen for c in batch] == ["device-good"]
    assert depth == 0


def test_a_change_put_back_by_an_outage_is_not_poison_at_its_first_failure(store):
    """An outage puts the batch back (the broker marks it redelivered); the batch then fails
    once and its change alone once more: that is the change's first failure of its own, so it is
    tried again and billed, where the redelivered flag had it stored as poison."""
    account = new_account_id()
    answers = iter([HandOffUnavailable("the shards are restarting"), RuntimeError("batch failed"), RuntimeError("x")])

    def handoff(batch):
        failure = next(answers, None)
        if failure is not None:
            raise failure
        bridge.seen.append(list(batch))

    bridge = make_bridge(store, handoff)
    bridge.unavailable_pause_s = 0.1
    depth = run_bridge(bridge, [change("doc_created", account, "device", "device-late")], expect_changes=1)
    assert [c.doc_id for batch in bridge.seen for c in batch] == ["device-late"]
    assert failures(store) == [] and depth == 0


def test_a_malformed_message_the_store_cannot_take_yet_is_stored_at_its_redelivery_and_the_bridge_goes_on(store):
    """The failures database away when poison comes: the message goes back to the queue (where
    the store's error stopped the bridge and every consumer of its process), and is stored once
    the store answers; the events after it are billed."""
    account = new_account_id()
    refused: list[str] = []

    def reject(rejected):
        if not refused:
            refused.append(rejected.reason_code)
            raise StoreUnavailable("kazbill_failures", "connection refused")
        store_rejected(store, rejected, NOW)

    bridge = make_bridge(store)
    bridge.reject = reject
    bridge.unavailable_pause_s = 0.1
    depth = run_malformed_then_good(bridge, store, account)
    assert refused == ["malformed_json"]
    (stored,) = failures(store)
    assert stored["reason_code"] == "malformed_json"
    assert [c.doc_id for batch in bridge.seen for c in batch] == ["device2"]
    assert depth == 0
