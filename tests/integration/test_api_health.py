"""/health against the machine's real RabbitMQ (and a port where nothing listens)."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK

pytestmark = pytest.mark.integration


def health(store, amqp_url):
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, tzinfo=MSK)),
        design_docs=load_design_docs(),
        tokens=TokenSigner(b"test-secret-0123456789", 3600),
        amqp_url=amqp_url,
    )
    return testing.TestClient(create_app(deps)).simulate_get("/health")


def test_health_reports_the_store_and_whether_the_bus_answers(tmp_path):
    store = EmbeddedStore(tmp_path / "h.sqlite3")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = health(store, f"amqp://guest:guest@127.0.0.1:{port}/")
    assert down.status_code == 200 and down.json["data"]["store"]["ok"] is True
    assert down.json["data"]["bus"]["ok"] is False and down.json["data"]["bus"]["address"] == f"127.0.0.1:{port}"
    up = health(store, "amqp://guest:guest@127.0.0.1:5672/")  # the RabbitMQ ./scripts/services starts
    assert up.json["data"]["bus"] == {"ok": True, "address": "127.0.0.1:5672"}
    store.close()
