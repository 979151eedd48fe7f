"""A customer cannot make its reseller pay without limit (issue 20.10): pro-formas and invoices
for a payment (each numbered in the reseller's sequence, rendered and emailed) are limited per
account in any hour and any 24 hours; past a limit the answer is 429 naming it, and nothing is
recorded, numbered, queued for rendering or sent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.usage_limits import UsageLimit, UsageLimits
from bookkeeper.ports import ViewQuery
from bookkeeper.services.documents.document_queue import QUEUE_DB
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from tests.unit.crossbar_api.test_api import token

LIMITS = UsageLimits(UsageLimit("proformas", 200, 1_000), UsageLimit("documents", 3, 5))


@pytest.fixture
def limited(tmp_path):
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    world = ApiWorld(store).build()
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    deps = ApiDeps(
        store=store,
        clock=clock,
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"test-secret-0123456789", 86_400),
        attempts=AttemptLimiter(5, 300),
        usage_limits=LIMITS,
    )
    yield testing.TestClient(create_app(deps)), world, clock
    store.close()


def proforma_requests(store, account_id: str) -> int:
    rows = store.all_docs(
        account_db(account_id),
        ViewQuery(start_key="kazbill_proforma_request-", end_key="kazbill_proforma_request-\ufff0"),
    ).rows
    return len(rows)


def queued_jobs(store) -> int:
    return len(store.all_docs(QUEUE_DB, ViewQuery(start_key="job-", end_key="job-\ufff0")).rows)


def test_the_201st_proforma_in_an_hour_is_refused_and_nothing_is_numbered_or_mailed(limited):
    client, world, clock = limited
    customer = world.ids["customer_two"]
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{customer}/onbill_proforma"
    numbers = []
    for minute in range(200):
        clock.set(datetime(2026, 11, 10, 12, 0, tzinfo=MSK) + timedelta(seconds=minute * 15))
        issued = client.simulate_put(url, headers=own, json={"data": {"amount": 100}})
        assert issued.status_code == 201, issued.json
        numbers.append(issued.json["data"]["number"])
    assert numbers == [str(n) for n in range(1, 201)]
    refused = client.simulate_put(url, headers=own, json={"data": {"amount": 100}})
    assert refused.status_code == 429 and "proformas_per_hour" in refused.json["data"], refused.json
    assert int(refused.headers["retry-after"]) == 10 * 60 + 15  # when the first of the hour's 200 leaves it
    assert (proforma_requests(world.store, customer), queued_jobs(world.store)) == (
        200,
        200,
    )  # nothing recorded or queued
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    assert client.simulate_put(url, headers=reseller, json={"data": {"amount": 100}}).status_code == 429  # per account
    other = {"X-Auth-Token": token(client, world, "other_customer")}
    elsewhere = client.simulate_put(
        f"/v2/accounts/{world.ids['other_customer']}/onbill_proforma", headers=other, json={"data": {"amount": 100}}
    )
    assert elsewhere.status_code == 201  # another account's allowance is its own
    clock.set(datetime(2026, 11, 10, 13, 0, 1, tzinfo=MSK))  # the first of the 200 has left the hour
    later = client.simulate_put(url, headers=own, json={"data": {"amount": 100}})
    assert later.status_code == 201 and later.json["data"]["number"] == "201"  # no number was spent on a refusal


def test_invoices_for_a_payment_are_limited_per_hour_and_per_day(limited):
    client, world, clock = limited
    customer = world.ids["customer_two"]
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    credit = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        json={"data": {"amount": 300}},
        headers={**reseller, "Idempotency-Key": "wire-1"},
    ).json["data"]["id"]
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{customer}/onbills/transaction"

    def ask() -> int:
        return client.simulate_put(url, headers=own, json={"data": {"entry_id": credit}}).status_code

    assert [ask() for _ in range(4)] == [201, 201, 201, 429]
    clock.set(datetime(2026, 11, 10, 13, 30, tzinfo=MSK))
    assert [ask() for _ in range(2)] == [201, 201]
    refused = client.simulate_put(url, headers=own, json={"data": {"entry_id": credit}})
    assert refused.status_code == 429 and "documents_per_day" in refused.json["data"]
    assert queued_jobs(world.store) == 1  # the one invoice (queued again by each request allowed)
