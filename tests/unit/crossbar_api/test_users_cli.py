"""`kazbill users add|passwd` and `kazbill api-key` on the embedded store, checked the way a
person would: by logging in through the API with what the command made. A new password ends the
old one's sessions; a new API key ends the old key's; bad input names what is wrong and changes
nothing."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import ViewQuery
from entrypoints.cli import main
from tests.unit.crossbar_api.test_api import login

AUTH_CACHE_S = 5  # KAZBILL_API_AUTH_CACHE's default: how long a worker trusts the user it read


def kazbill(tmp_path, *args: str):
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "api.sqlite3"), "KAZBILL_STORE_URL": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def users_of(world, account_id: str) -> list[str]:
    rows = world.store.all_docs(account_db(account_id), ViewQuery(include_docs=True))
    return sorted(row.doc["username"] for row in rows.rows if row.doc and row.doc.get("pvt_type") == "user")


def test_an_operator_adds_a_login_that_the_api_accepts_and_changes_its_password(api, tmp_path):
    client, world, clock = api
    customer = world.ids["customer_two"]
    added = kazbill(tmp_path, "users", "add", "Customer Two", "Anna", "--password", "first-pass-1", "--email", "a@x.ru")
    assert added.exit_code == 0, added.output
    assert f"added admin 'anna' to Customer Two ({customer})" in added.output
    assert "PUT /v2/user_auth" in added.output and "/portal" in added.output
    first = login(client, "Customer Two", "anna", "first-pass-1")  # Kazoo's hash of the lower-cased name
    assert first.status_code == 201, first.json
    assert first.json["data"]["account_id"] == customer
    token = first.json["auth_token"]
    assert (
        client.simulate_get(f"/v2/accounts/{customer}/ledgers/total", headers={"X-Auth-Token": token}).status_code
        == 200
    )

    changed = kazbill(tmp_path, "users", "passwd", customer, "anna", "--password", "second-pass-2")
    assert changed.exit_code == 0, changed.output
    assert login(client, "Customer Two", "anna", "first-pass-1").status_code == 401
    assert login(client, "Customer Two", "anna", "second-pass-2").status_code == 201
    clock.set(clock.now() + timedelta(seconds=AUTH_CACHE_S + 1))  # past what a worker trusts unread
    stale = client.simulate_get(f"/v2/accounts/{customer}/ledgers/total", headers={"X-Auth-Token": token})
    assert stale.status_code == 401  # the old password's session ended with it


def test_bad_requests_name_what_is_wrong_and_add_nobody(api, tmp_path):
    client, world, _ = api
    customer = world.ids["customer_two"]
    before = users_of(world, customer)
    for args, named in (
        (["users", "add", "Nobody Ltd", "anna", "--password", "long-enough-1"], "ACCOUNT"),
        (["users", "add", "Customer Two", "anna", "--password", "short"], "PASSWORD"),
        (["users", "add", "Customer Two", "an na", "--password", "long-enough-1"], "USERNAME"),
        (["users", "add", "Customer Two", "admin-customer_two", "--password", "long-enough-1"], "USERNAME"),
        (["users", "passwd", "Customer Two", "ghost", "--password", "long-enough-1"], "USERNAME"),
        (["api-key", "Nobody Ltd"], "ACCOUNT"),
    ):
        refused = kazbill(tmp_path, *args)
        assert refused.exit_code == 2 and named in refused.output, (args, refused.output)
    assert users_of(world, customer) == before
    assert login(client, "Customer Two", "admin-customer_two").status_code == 201  # untouched


def test_the_api_key_is_made_once_shown_again_and_renewed_on_request(api, tmp_path):
    client, world, clock = api
    customer = world.ids["customer_two"]
    shown = kazbill(tmp_path, "api-key", customer)
    assert shown.exit_code == 0, shown.output
    key = shown.output.strip()  # the key the account had (an account without one gets one made)
    assert key == world.store.get("accounts", customer)["pvt_api_key"]
    assert kazbill(tmp_path, "api-key", "Customer Two").output.strip() == key
    session = client.simulate_put("/v2/api_auth", json={"data": {"api_key": key}})
    assert session.status_code == 201 and session.json["data"]["account_id"] == customer
    renewed = kazbill(tmp_path, "api-key", customer, "--new").output.strip()
    assert renewed != key and len(renewed) == 64
    assert client.simulate_put("/v2/api_auth", json={"data": {"api_key": key}}).status_code == 401
    assert client.simulate_put("/v2/api_auth", json={"data": {"api_key": renewed}}).status_code == 201
    clock.set(clock.now() + timedelta(seconds=AUTH_CACHE_S + 1))
    old = client.simulate_get(
        f"/v2/accounts/{customer}/ledgers/total", headers={"X-Auth-Token": session.json["auth_token"]}
    )
    assert old.status_code == 401  # sessions of the old key end with it
    fresh = world.store.get("accounts", world.ids["other_customer"])
    world.store.put("accounts", {k: v for k, v in fresh.items() if k != "pvt_api_key"})
    made = kazbill(tmp_path, "api-key", world.ids["other_customer"]).output.strip()
    assert len(made) == 64 and client.simulate_put("/v2/api_auth", json={"data": {"api_key": made}}).status_code == 201
