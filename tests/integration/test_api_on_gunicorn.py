"""The API as an operator runs it: `kazbill api` (gunicorn, two workers) against the real
CouchDB-compatible server, spoken to over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from testkit.fixtures.api_world import ApiWorld, md5
from testkit.support.api_server import call, couch, serving_api

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
    status, login = call(base, "PUT", "/v2/user_auth", {"credentials": md5("boss:secret"), "account_name": "Reseller"})
    assert status == 201, login
    token = login["auth_token"]
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


def test_a_logout_holds_at_once_on_both_workers_without_a_store_read_a_request(served):
    """Each worker learns of logouts from the system database's feed; the host's other worker
    from the mark the logout leaves (crossbar_api/revocations.py), before its next answer."""
    base, world = served

    def sign_in() -> str:
        status, body = call(
            base, "PUT", "/v2/user_auth", {"credentials": md5("boss:secret"), "account_name": "Reseller"}
        )
        assert status == 201, body
        return body["auth_token"]

    def total(token: str) -> int:
        return call(base, "GET", f"/v2/accounts/{world.ids['customer']}/ledgers/total", token=token)[0]

    gone, kept = sign_in(), sign_in()
    assert [total(gone) for _ in range(4)] == [200] * 4  # both workers know the token
    assert call(base, "DELETE", "/v2/token_auth", token=gone)[0] == 200
    assert [total(gone) for _ in range(6)] == [401] * 6
    assert [total(kept) for _ in range(4)] == [200] * 4
