"""The API as an operator runs it: `kazbill api` (gunicorn, two workers) against the real
CouchDB-compatible server, spoken to over HTTP."""

from __future__ import annotations

import urllib.error
from decimal import Decimal

import pytest

from bench.couch_requests import requests_served
from bookkeeper.adapters.couchdb_store import CouchDbStore
from testkit.fixtures.api_world import ApiWorld
from testkit.support.api_server import call, couch, dump_worker_threads, serving_api, sign_in
from testkit.support.kazbill_service import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def served(own_couch_url, tmp_path):
    store = CouchDbStore(own_couch_url)
    world = ApiWorld(store).build()
    try:
        with serving_api(couch(own_couch_url), tmp_path / "gunicorn.log") as base:
            yield base, world
    finally:
        store.close()


def test_a_reseller_logs_in_credits_a_customer_once_and_sees_the_balance(served):
    base, world = served
    token = sign_in(base)
    customer = world.ids["customer"]
    posted = [
        call(
            base,
            "PUT",
            f"/v2/accounts/{customer}/ledgers/credit",
            {"amount": Decimal("250.75")},
            token,
            {"Idempotency-Key": "bank-ref-1"},
        )
        for _ in range(4)
    ]  # spread over both workers
    assert [status for status, _ in posted] == [201, 200, 200, 200]
    assert len({body["data"]["id"] for _, body in posted}) == 1
    status, total = call(base, "GET", f"/v2/accounts/{customer}/ledgers/total", token=token)
    assert (status, total["data"]["amount"]) == (200, Decimal("250.75"))
    status, page = call(base, "GET", f"/v2/accounts/{customer}/transactions", token=token)
    assert [(t["type"], t["amount"], t["reason"]) for t in page["data"]] == [
        ("credit", Decimal("250.75"), "wire_transfer")
    ]
    status, refused = call(base, "GET", f"/v2/accounts/{world.ids['other_customer']}/ledgers/total", token=token)
    assert (status, refused["error"]) == (403, "403")


def test_a_credit_shows_at_once_on_both_workers_pages_read_before_it(served):
    """On CouchDB each worker keeps a month's newest transactions while the month is unchanged
    (crossbar_api/month_tops.py): a credit taken by one worker shows on the next page either
    worker answers, however often both read that page before."""
    base, world = served
    token, customer = sign_in(base), world.ids["customer"]
    path = f"/v2/accounts/{customer}/transactions"

    def credit(reference: str, amount: str) -> None:
        status, _ = call(
            base,
            "PUT",
            f"/v2/accounts/{customer}/ledgers/credit",
            {"amount": Decimal(amount)},
            token,
            {"Idempotency-Key": reference},
        )
        assert status == 201

    credit("bank-ref-a", "10")
    assert all(len(call(base, "GET", path, token=token)[1]["data"]) == 1 for _ in range(6))  # both workers keep it
    credit("bank-ref-b", "20.50")
    pages = [call(base, "GET", path, token=token)[1]["data"] for _ in range(6)]  # a new connection each: both answer
    assert all(sorted(t["amount"] for t in page) == [Decimal("10"), Decimal("20.50")] for page in pages), pages


def test_a_logout_holds_at_once_on_both_workers_without_a_store_read_a_request(served, own_couch_url, tmp_path):
    """Each worker learns of logouts from the system database's feed; the host's other worker
    from the mark the logout leaves (crossbar_api/revocations.py), before its next answer."""
    base, world = served
    log = tmp_path / "gunicorn.log"
    # pouchdb-server (a clone without a CouchDB release) holds a quiet longpoll open, so the API
    # reads the logouts per request there and has no feed to wait for (crossbar_api/wsgi.py).
    on_couchdb = served_requests(own_couch_url) is not None
    try:
        wait_for(
            lambda: not on_couchdb or log.read_text().count("following kazbill_system's changes for logouts") == 2,
            60,
            "both workers to follow the logouts",
        )
    except AssertionError as error:  # what the workers said, and where their threads are, explain it
        raise AssertionError(f"{error}; the API's log ends:\n{dump_worker_threads(log)}") from None

    def total(token: str) -> int:
        return call(base, "GET", f"/v2/accounts/{world.ids['customer']}/ledgers/total", token=token)[0]

    gone, kept = sign_in(base), sign_in(base)
    assert [total(gone) for _ in range(4)] == [200] * 4
    assert call(base, "DELETE", "/v2/token_auth", token=gone)[0] == 200
    served_before = served_requests(own_couch_url)
    assert [total(gone) for _ in range(20)] == [401] * 20  # a new connection each: both workers answer
    assert [total(kept) for _ in range(10)] == [200] * 10
    if served_before is not None:  # CouchDB counts what it serves (pouchdb-server does not)
        spent = served_requests(own_couch_url) - served_before
        # 10 balance reads, at most one read past the mark per worker, the feeds' longpolls, and
        # the user and accounts each worker reads again once its auth cache has passed (5 s):
        # some 20. A read of the logout per request would be 30 more than that.
        assert spent <= 30, spent


def served_requests(url: str) -> int | None:
    try:
        return requests_served(url)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
