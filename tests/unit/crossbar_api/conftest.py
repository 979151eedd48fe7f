"""The API on a throwaway embedded store with an account tree (testkit.fixtures.api_world)."""

from __future__ import annotations

from datetime import datetime

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld

METRICS_TOKEN = "metrics-token-for-the-tests"


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
        attempts=AttemptLimiter(5, 300),
        metrics_token=METRICS_TOKEN,
    )
    client = testing.TestClient(create_app(deps))
    yield client, world, clock
    store.close()


@pytest.fixture
def store(tmp_path):
    """An embedded store holding the system database, where logouts are kept (a test module may
    define its own `store`)."""
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    store.ensure_database(SYSTEM_DB)
    yield store
    store.close()
