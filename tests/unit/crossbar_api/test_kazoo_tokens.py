"""Kazoo's own tokens (Monster UI's) accepted by the API and the console, as Kazoo 4.3 accepts
them: signed by the cluster's system key, unexpired, with the identity signature of the user's
and the system's secrets; everything else refused, and nothing written to Kazoo's databases."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from testkit.fixtures.kazoo_auth import KazooAuth


@pytest.fixture
def kazoo(api):
    client, world, clock = api
    auth = KazooAuth(world.store, now=lambda: clock.now().timestamp()).install()
    auth.give_secret(world.ids["reseller"], "user" + "0" * 27 + "1")  # "boss", the reseller's admin
    return client, world, clock, auth


BOSS = "user" + "0" * 27 + "1"


def balance(client, world, token, who="customer_two"):
    return client.simulate_get(f"/v2/accounts/{world.ids[who]}/ledgers/total", headers={"X-Auth-Token": token})


def test_a_kazoo_token_opens_the_api_for_its_user_under_kazbills_own_rules(kazoo):
    client, world, _, auth = kazoo
    token = auth.token(world.ids["reseller"], BOSS)
    assert balance(client, world, token).status_code == 200  # a customer below the reseller
    assert balance(client, world, token, "other_customer").status_code == 403  # another reseller's
    credit = client.simulate_put(
        f"/v2/accounts/{world.ids['customer_two']}/ledgers/credit",
        headers={"X-Auth-Token": token, "Idempotency-Key": "sso-1"},
        json={"data": {"amount": 10, "description": "wire"}},
    )
    assert credit.status_code == 201  # an admin of the reseller above, as Kazoo's user says


def _tampered(token: str, **claims) -> str:
    head, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    return f"{head}.{base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b'=').decode()}.{signature}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, expires_in=-1), id="expired"),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, exp=None), id="no-expiry"),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, identity_sig=None), id="no-identity-sig"),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, identity_sig="AAAA"), id="wrong-identity-sig"),
        pytest.param(
            lambda auth, w: _tampered(auth.token(w.ids["reseller"], BOSS), account_id=w.ids["master"]), id="tampered"
        ),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, header={"kid": "f" * 32}), id="unknown-kid"),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, header={"alg": "HS256"}), id="hs256"),
        pytest.param(lambda auth, w: auth.token(w.ids["reseller"], BOSS, iss="accounts.google.com"), id="other-issuer"),
        pytest.param(
            lambda auth, w: auth.token(w.ids["reseller"], BOSS, **{"as": {"account_id": w.ids["customer"]}}),
            id="masquerading",
        ),
        pytest.param(lambda auth, w: "a.b.c", id="garbage"),
    ],
)
def test_a_token_kazoo_would_refuse_or_that_kazbill_will_not_trust_is_401(kazoo, make):
    client, world, _, auth = kazoo
    result = balance(client, world, make(auth, world))
    assert result.status_code == 401, result.json
    assert world.store.get_many("system_auth", ["f" * 32]) == {}  # no key made for an unknown kid


def test_a_new_signature_secret_or_system_secret_ends_the_users_tokens(kazoo):
    client, world, clock, auth = kazoo
    token = auth.token(world.ids["reseller"], BOSS)
    auth.give_secret(world.ids["reseller"], BOSS)  # Kazoo's reset_signature_secret, or a password change
    assert balance(client, world, token).status_code == 401
    fresh = auth.token(world.ids["reseller"], BOSS)
    config = world.store.get("system_config", "auth")
    assert balance(client, world, fresh).status_code == 200
    world.store.put("system_config", {**config, "default": {**config["default"], "secret_for_user_signature": "x"}})
    clock.set(clock.now() + timedelta(seconds=6))  # past the API's document cache (auth_cache_s, 5 s)
    assert balance(client, world, fresh).status_code == 401


def test_an_expired_trial_or_a_disabled_user_is_refused(kazoo):
    client, world, clock, auth = kazoo
    customer = world.ids["customer_two"]
    admin = "user" + "0" * 27 + "1"
    auth.give_secret(customer, admin)
    token = auth.token(customer, admin)
    assert balance(client, world, token).status_code == 200
    for db in (ACCOUNTS_DB, account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "pvt_trial_expires": 63_000_000_000})
    clock.set(clock.now() + timedelta(seconds=6))  # past the API's document cache
    assert balance(client, world, token).status_code == 401
    for db in (ACCOUNTS_DB, account_db(customer)):
        doc = world.store.get(db, customer)
        world.store.put(db, {key: value for key, value in doc.items() if key != "pvt_trial_expires"})
    user = world.store.get(account_db(customer), admin)
    clock.set(clock.now() + timedelta(seconds=6))
    assert balance(client, world, token).status_code == 200  # the trial lifted
    world.store.put(account_db(customer), {**user, "enabled": False})
    clock.set(clock.now() + timedelta(seconds=6))
    assert balance(client, world, token).status_code == 401


def test_an_accounts_own_token_acts_as_its_api_key(kazoo):
    client, world, _, auth = kazoo
    customer = world.ids["customer_two"]
    auth.give_secret(customer, customer)  # the account document's own secret (an api_auth login)
    assert balance(client, world, auth.token(customer, None)).status_code == 200


def test_a_monster_ui_app_opens_the_console_with_its_kazoo_token(kazoo):
    client, world, _, auth = kazoo
    token = auth.token(world.ids["reseller"], BOSS)
    result = client.simulate_post(
        "/console/sso",
        body=f"auth_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 303
    assert result.headers["location"] == f"/console/accounts/{world.ids['reseller']}/dashboard?lang=en"
    cookie = result.cookies["kazbill_console"]
    page = client.simulate_get(result.headers["location"], headers={"Cookie": f"kazbill_console={cookie.value}"})
    assert page.status_code == 200 and "Dashboard · Reseller" in page.text
    refused = client.simulate_post(
        "/console/sso", body="auth_token=a.b.c", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert refused.status_code == 401 and "kazbill_console" not in refused.cookies


def test_a_kazoo_token_posted_from_another_site_starts_no_console_session(kazoo):
    client, world, _, auth = kazoo
    token = auth.token(world.ids["reseller"], BOSS)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    refused = client.simulate_post(
        "/console/sso", body=f"auth_token={token}", headers={**form, "Origin": "https://evil.example"}
    )
    assert refused.status_code == 403 and "Origin" in refused.json["data"] and not refused.cookies


def cors_app(tmp_path, origins: tuple[str, ...]):
    """The API with `origins` allowed to call it from browsers; the client and its world."""
    from datetime import datetime

    from falcon import testing

    from bookkeeper.adapters.clock import SettableClock
    from bookkeeper.adapters.embedded import EmbeddedStore
    from crossbar_api.app import create_app
    from crossbar_api.auth import TokenSigner
    from crossbar_api.deps import ApiDeps
    from testkit.fixtures.api_world import MSK, ApiWorld

    store = EmbeddedStore(tmp_path / "cors.sqlite3")
    world = ApiWorld(store).build()
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"test-secret-0123456789", 3600),
        cors_origins=origins,
    )
    return testing.TestClient(create_app(deps)), world


def test_cors_for_any_origin_lets_any_site_call_the_api_but_sign_in_none(tmp_path):
    client, world = cors_app(tmp_path, ("*",))
    refused = client.simulate_post(
        "/console/login",
        body="account_name=Reseller&username=boss&password=secret",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
    )
    assert refused.status_code == 403 and not refused.cookies
    world.store.close()


def test_cors_lets_the_configured_monster_ui_origin_call_the_api_and_no_other(tmp_path):
    client, world = cors_app(tmp_path, ("https://portal.example.net",))
    path = f"/v2/accounts/{world.ids['customer']}/ledgers/total"
    preflight = client.simulate_options(
        path,
        headers={
            "Origin": "https://portal.example.net",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Auth-Token",
        },
    )
    assert preflight.headers.get("access-control-allow-origin") == "https://portal.example.net"
    assert "x-auth-token" in preflight.headers.get("access-control-allow-headers", "").lower()
    other = client.simulate_options(
        path, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in other.headers
    world.store.close()
