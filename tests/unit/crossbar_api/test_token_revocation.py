"""Tokens stop speaking for their caller as soon as the store says they should (within the
worker's short cache, which these tests step past on the API's clock): a deleted, disabled or
demoted user, a changed password or API key, a disabled account at or above the caller, and a
logout. A disabled account anywhere above the target blocks the request, whoever asks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from crossbar_api.sessions import RecentDocuments
from testkit.fixtures.api_world import MSK, ApiWorld, md5

CACHE_S = 5


@pytest.fixture
def api(tmp_path):
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    world = ApiWorld(store).build()
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    deps = ApiDeps(
        store=store,
        clock=clock,
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"test-secret-0123456789", 3600),
        attempts=AttemptLimiter(1000, 300),
        recent=RecentDocuments(CACHE_S),
    )
    yield testing.TestClient(create_app(deps)), world, clock
    store.close()


def login(client, account_name: str, username: str, password: str = "secret"):
    return client.simulate_put(
        "/v2/user_auth", json={"data": {"credentials": md5(f"{username}:{password}"), "account_name": account_name}}
    )


def token_of(client, account_name: str, username: str) -> dict[str, str]:
    result = login(client, account_name, username)
    assert result.status_code == 201, result.json
    return {"X-Auth-Token": result.json["auth_token"]}


def balance(client, world, who: str, headers: dict[str, str]):
    return client.simulate_get(f"/v2/accounts/{world.ids[who]}/transactions/current_balance", headers=headers)


def change(store, db: str, doc_id: str, **fields) -> None:
    store.put(db, {**store.get(db, doc_id), **fields})


def past_the_cache(clock) -> None:
    clock.advance(timedelta(seconds=CACHE_S + 1))


def reseller_admin(world) -> tuple[str, str]:
    return account_db(world.ids["reseller"]), "user" + "1".zfill(28)


@pytest.mark.parametrize(
    "what, fields",
    [
        ("deleted", {"pvt_deleted": True}),
        ("disabled", {"enabled": False}),
        ("demoted", {"priv_level": "user"}),
        ("given a new password", {"pvt_md5_auth": md5("boss:new-secret")}),
    ],
)
def test_a_token_stops_working_once_its_user_is(api, what, fields):
    client, world, clock = api
    headers = token_of(client, "Reseller", "boss")
    assert balance(client, world, "customer", headers).status_code == 200
    change(world.store, *reseller_admin(world), **fields)
    past_the_cache(clock)
    refused = balance(client, world, "customer", headers)
    assert refused.status_code == 401, what
    assert "revoked" in refused.json["data"]["auth_token"]


def test_a_new_api_key_ends_the_tokens_of_the_old_one(api):
    client, world, clock = api
    customer = world.ids["customer"]
    result = client.simulate_put("/v2/api_auth", json={"data": {"api_key": "key-" + customer}})
    headers = {"X-Auth-Token": result.json["auth_token"]}
    assert balance(client, world, "customer", headers).status_code == 200
    change(world.store, ACCOUNTS_DB, customer, pvt_api_key="key-rotated-" + customer)
    past_the_cache(clock)
    assert balance(client, world, "customer", headers).status_code == 401


def test_logout_revokes_the_token_at_once_and_only_that_token(api):
    client, world, _ = api
    first, second = token_of(client, "Reseller", "boss"), token_of(client, "Reseller", "boss")
    out = client.simulate_delete("/v2/token_auth", headers=first)
    assert out.status_code == 200
    assert balance(client, world, "customer", first).status_code == 401  # no cache to wait out
    assert client.simulate_delete("/v2/token_auth", headers=first).status_code == 401
    assert balance(client, world, "customer", second).status_code == 200


def test_a_disabled_reseller_can_neither_log_in_nor_act_on_its_children(api):
    client, world, clock = api
    headers = token_of(client, "Reseller", "boss")
    change(world.store, ACCOUNTS_DB, world.ids["reseller"], enabled=False)
    past_the_cache(clock)
    for child in ("customer", "customer_two", "sub"):
        refused = balance(client, world, child, headers)
        assert refused.status_code == 423, child
    assert balance(client, world, "reseller", headers).status_code == 423
    assert login(client, "Reseller", "boss").status_code == 423


def test_a_disabled_account_above_the_target_blocks_even_the_master(api):
    client, world, clock = api
    root = token_of(client, "Master", "root")
    sub_admin = token_of(client, "Sub", "admin-sub")
    change(world.store, ACCOUNTS_DB, world.ids["reseller"], pvt_enabled=False)  # disabled by an operator
    past_the_cache(clock)
    refused = balance(client, world, "customer", root)
    assert (
        refused.status_code == 423 and world.ids["reseller"] in refused.json["data"]["account_id"]["enabled"]["message"]
    )
    assert balance(client, world, "customer", sub_admin).status_code == 423  # the sub-reseller's users too
    assert balance(client, world, "other_customer", root).status_code == 200  # another branch is untouched


def test_a_reseller_blocked_for_lack_of_funds_still_reaches_its_children(api):
    client, world, clock = api
    headers = token_of(client, "Reseller", "boss")
    change(world.store, ACCOUNTS_DB, world.ids["reseller"], pvt_enabled=False, pvt_kazbill_blocked=True)
    past_the_cache(clock)
    assert balance(client, world, "customer", headers).status_code == 200


def test_a_parent_still_reaches_a_disabled_child_to_settle_it(api):
    client, world, clock = api
    headers = token_of(client, "Reseller", "boss")
    change(world.store, ACCOUNTS_DB, world.ids["customer_two"], enabled=False)
    past_the_cache(clock)
    assert balance(client, world, "customer_two", headers).status_code == 200


def test_a_token_signed_for_other_claims_or_forged_is_refused(api):
    client, world, _ = api
    headers = token_of(client, "Reseller", "boss")
    payload, _, signature = headers["X-Auth-Token"].partition(".")
    assert balance(client, world, "customer", {"X-Auth-Token": payload + "x." + signature}).status_code == 401
    other = TokenSigner(b"another-secret-0123456789", 3600)
    assert other.claims(headers["X-Auth-Token"], 0) is None


def test_an_account_moved_to_another_reseller_is_out_of_reach_at_once_but_for_its_balance_within_the_cache(api):
    """A balance or ledger read trusts the target account as this worker last read it, for the
    cache's seconds (as a token's own account is trusted); everything else reads it afresh, so
    the former reseller can never credit it, reach its payment gateway, or see its settings."""
    client, world, clock = api
    headers = token_of(client, "Reseller", "boss")
    customer = world.ids["customer_two"]
    assert balance(client, world, "customer_two", headers).status_code == 200
    change(world.store, ACCOUNTS_DB, customer, pvt_tree=[world.ids["master"], world.ids["other_reseller"]])
    credit = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        headers={**headers, "Idempotency-Key": "after-the-move"},
        json={"data": {"amount": 100, "description": "not ours any more"}},
    )
    assert credit.status_code == 403 and "access" in credit.json["data"]["account_id"]
    for path in ("braintree/client_token", "onbill", "services"):  # a GET that reaches a gateway, or shows it
        assert client.simulate_get(f"/v2/accounts/{customer}/{path}", headers=headers).status_code == 403, path
    assert world.store.get_many(ACCOUNTS_DB, [customer])[customer]["pvt_tree"][-1] == world.ids["other_reseller"]
    past_the_cache(clock)
    refused = balance(client, world, "customer_two", headers)
    assert refused.status_code == 403 and "access" in refused.json["data"]["account_id"]
