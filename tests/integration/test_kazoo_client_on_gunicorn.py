"""A Kazoo 4.3 crossbar client against `kazbill api` as an operator runs it (gunicorn, two
workers, the real CouchDB-compatible server), over HTTP: it logs in by a name spelled the way
Kazoo normalises it, credits in Kazoo's own ledger body, and reads the ledgers back the way
cb_ledgers serves them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from testkit.fixtures.api_world import md5
from testkit.support.api_server import call
from tests.integration import test_api_on_gunicorn

pytestmark = pytest.mark.integration
served = test_api_on_gunicorn.served  # the same API on gunicorn over the same world (a fixture)


def test_a_kazoo_client_logs_in_credits_and_reads_the_ledgers_back_as_cb_ledgers_serves_them(served):
    base, world = served
    status, login = call(
        base, "PUT", "/v2/user_auth", {"credentials": md5("boss:secret"), "account_realm": "reseller.sip.example.net"}
    )
    assert status == 201 and login["data"]["reseller_id"] == world.ids["master"] and login["data"]["apps"] == []
    token = login["auth_token"]
    customer = world.ids["customer_two"]
    body = {
        "amount": Decimal("42.10"),
        "description": "Bank transfer 7781",
        "source": {"service": "payments", "id": "bank-7781"},
        "usage": {"type": "credit", "quantity": 0, "unit": "RUB"},
        "metadata": {"bank_ref": "7781"},
    }
    posted = [
        call(base, "PUT", f"/v2/accounts/{customer}/ledgers/credit", body, token, {"Idempotency-Key": "7781"})
        for _ in range(3)
    ]  # spread over both workers
    assert [status for status, _ in posted] == [201, 200, 200]
    entry = posted[0][1]["data"]
    assert (entry["amount"], entry["source"], entry["account"]["id"]) == (Decimal("42.10"), body["source"], customer)
    assert all(answer["data"] == entry for _, answer in posted)

    month = entry["id"][:6]  # the (UTC) month of the database it went to: kazoo_modb ids carry it
    status, summary = call(base, "GET", f"/v2/accounts/{customer}/ledgers/summary/{month}", token=token)
    assert status == 200 and summary["data"]["summary"]["payments"]["amount"] == Decimal("42.1")
    [row] = [row for row in summary["data"]["breakdown"] if row["account"]["id"] == customer]
    assert row["ledgers"]["payments"]["amount"] == Decimal("42.1")
    status, listed = call(base, "GET", f"/v2/accounts/{customer}/ledgers/payments", token=token)
    assert status == 200 and [item["id"] for item in listed["data"]] == [entry["id"]] and listed["page_size"] == 1

    status, parent = call(
        base, "PUT", "/v2/user_auth", {"credentials": md5("admin-customer_two:secret"), "account_name": "customertwo"}
    )
    assert status == 201, parent
    status, refused = call(base, "PUT", f"/v2/accounts/{customer}/ledgers/credit", body, parent["auth_token"])
    assert status == 403 and refused["timestamp"].endswith("Z") and refused["version"] and refused["node"]
