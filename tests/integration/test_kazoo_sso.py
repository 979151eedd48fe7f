"""Kazoo's own tokens checked against a real store: the system key as a PEM attachment of its
`system_auth` document, the system secret, the user's signature secret, on both stores (and a
real CouchDB 3.4.3 where the test command starts one)."""

from __future__ import annotations

from datetime import datetime

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from testkit.fixtures.kazoo_auth import KazooAuth

pytestmark = pytest.mark.integration
BOSS = "user" + "0" * 27 + "1"


def test_a_kazoo_token_is_checked_against_the_clusters_own_key_and_secrets(store):
    world = ApiWorld(store).build()
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    auth = KazooAuth(store, now=lambda: clock.now().timestamp()).install()
    auth.give_secret(world.ids["reseller"], BOSS)
    deps = ApiDeps(store=store, clock=clock, design_docs=world.world.design_docs, tokens=TokenSigner(b"t" * 32, 3600))
    client = testing.TestClient(create_app(deps))
    path = f"/v2/accounts/{world.ids['customer_two']}/billing_status"
    good = client.simulate_get(path, headers={"X-Auth-Token": auth.token(world.ids["reseller"], BOSS)})
    assert good.status_code == 200, good.json
    forged = auth.token(world.ids["reseller"], BOSS, identity_sig="bm90LXRoZS1zaWduYXR1cmU")
    assert client.simulate_get(path, headers={"X-Auth-Token": forged}).status_code == 401
    elsewhere = auth.token(world.ids["reseller"], BOSS, header={"kid": "0" * 32})
    assert client.simulate_get(path, headers={"X-Auth-Token": elsewhere}).status_code == 401
    assert store.get_many("system_auth", ["0" * 32]) == {}  # Kazoo would have made a key; Kazbill writes nothing
