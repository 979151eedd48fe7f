"""Kazoo's standing request answered from the account's stored standing, on a real embedded store;
and an answer that cannot be read in time is an explicit refusal, not silence."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from actors.bridges.amqp_bookkeeper import BookkeeperResponder
from actors.bridges.standing_answers import StandingAnswer, standing_answer
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from testkit.fixtures.kazoo_docs import account_doc, new_account_id
from testkit.support import kazoo_amqp as kazoo


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "standing.sqlite3")
    store.ensure_database(ACCOUNTS_DB)
    yield store
    store.close()


def account(store, standing: dict | None) -> str:
    account_id = new_account_id()
    store.put(ACCOUNTS_DB, account_doc(account_id, "Customer", []))
    store.ensure_database(account_db(account_id))
    if standing is not None:
        store.put(account_db(account_id), {"_id": "kazbill_standing", "pvt_type": "kazbill_standing", **standing})
    return account_id


def test_an_account_in_good_standing_is_answered_good_standing(store):
    answer = standing_answer(store, account(store, {"status": "good_standing", "blocked": False, "reasons": []}))
    assert answer.status == "good_standing" and answer.reason is None


def test_a_delinquent_account_is_refused_with_the_reasons_kazbill_found(store):
    account_id = account(
        store, {"status": "delinquent", "blocked": False, "reasons": ["balance -5.00 below credit line"]}
    )
    assert standing_answer(store, account_id) == StandingAnswer(
        "delinquent",
        "delinquent",
        "balance -5.00 below credit line",
        {"blocked": False, "reasons": ["balance -5.00 below credit line"]},
    )


def test_a_blocked_account_is_refused_as_blocked(store):
    account_id = account(store, {"status": "delinquent", "blocked": True, "reasons": ["blocked manually"]})
    assert (standing_answer(store, account_id).status, standing_answer(store, account_id).reason) == (
        "delinquent",
        "blocked",
    )


def test_an_account_not_billed_yet_starts_in_good_standing(store):
    assert standing_answer(store, account(store, None)).status == "good_standing"


def test_an_unknown_account_or_an_unreadable_standing_is_an_error_not_a_guess(store):
    assert standing_answer(store, new_account_id()).reason == "unknown_account"
    broken = account(store, {"status": "fine", "blocked": "no"})
    assert (standing_answer(store, broken).status, standing_answer(store, broken).reason) == (
        "error",
        "bookkeeper_fault",
    )


class _Published:
    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    async def publish(self, message, routing_key):
        self.sent.append((routing_key, json.loads(message.body)))


class _Delivery:
    def __init__(self, routing_key: str, body: bytes):
        self.routing_key, self.body, self.acked = routing_key, body, False

    async def ack(self):
        self.acked = True


def test_a_store_too_slow_for_kazoos_two_seconds_gets_an_explicit_refusal_and_the_request_is_acked():
    """The read is given its budget and no more: Kazoo hears "unavailable" rather than nothing
    (nothing would become a 402 "bookkeeper_fault" only after Kazoo's own 2 s)."""
    released = threading.Event()
    responder = BookkeeperResponder(
        "amqp://unused",
        reconcile=None,
        reject=lambda rejected: None,
        node="kazbill@t",
        app_version="1",
        read_standing=lambda account_id: released.wait(30) and None,
        standing_budget_s=0.05,
    )

    async def scenario():
        from concurrent.futures import ThreadPoolExecutor

        responder._standing_thread = ThreadPoolExecutor(max_workers=1)
        responder._targeted = _Published()
        delivery = _Delivery(*kazoo.standing_req(new_account_id(), "targeted/q1", msg_id="m-slow"))
        try:
            await responder.handle_standing(delivery)
        finally:
            released.set()
            responder._standing_thread.shutdown(wait=True)
        return delivery, responder._targeted.sent

    delivery, sent = asyncio.run(scenario())
    assert delivery.acked
    ((key, body),) = sent
    assert (key, body["Msg-ID"], body["Status"], body["Reason"]) == ("targeted/q1", "m-slow", "error", "unavailable")


def test_a_malformed_standing_request_is_stored_and_acked_without_an_answer():
    stored = []
    responder = BookkeeperResponder(
        "amqp://unused",
        reconcile=None,
        reject=stored.append,
        node="kazbill@t",
        app_version="1",
        read_standing=lambda account_id: StandingAnswer("good_standing"),
    )

    async def scenario():
        responder._targeted = _Published()
        delivery = _Delivery(*kazoo.standing_req("not-an-account", "targeted/q1"))
        await responder.handle_standing(delivery)
        return delivery

    assert asyncio.run(scenario()).acked
    assert [(r.reason_code, r.field) for r in stored] == [("invalid_value", "Account-ID")]
    assert responder._targeted.sent == []
