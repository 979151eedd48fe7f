"""/metrics answers only on the listener set aside for it or to the bearer of its token; on the
public port without one it is not there at all."""

from __future__ import annotations

from datetime import datetime

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld

METRICS_PORT = 9465


@pytest.fixture
def serve(tmp_path):
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    world = ApiWorld(store).build()

    def app(**metrics):
        return testing.TestClient(
            create_app(
                ApiDeps(
                    store=store,
                    clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
                    design_docs=world.world.design_docs,
                    tokens=TokenSigner(b"test-secret-0123456789", 3600),
                    **metrics,
                )
            )
        )

    yield app
    store.close()


def scrape(client, port: int = 8000, **headers):
    return client.simulate_get("/metrics", headers=headers, extras={"SERVER_PORT": str(port)})


def test_unconfigured_metrics_are_nowhere_on_the_public_port(serve):
    client = serve()
    assert scrape(client).status_code == 404
    assert scrape(client, Authorization="Bearer anything").status_code == 404


def test_the_metrics_token_opens_them_and_nothing_else_does(serve):
    client = serve(metrics_token="s3cret-metrics-token")
    assert scrape(client, Authorization="Bearer s3cret-metrics-token").status_code == 200
    for wrong in ("", "Bearer", "Bearer s3cret", "Basic s3cret-metrics-token", "Bearer s3cret-metrics-token2"):
        refused = scrape(client, Authorization=wrong) if wrong else scrape(client)
        assert refused.status_code == 401, wrong
        assert "kazbill_api_requests_total" not in refused.text


def test_the_metrics_listener_answers_without_a_token_and_the_public_port_does_not(serve):
    client = serve(metrics_port=METRICS_PORT)
    answered = scrape(client, METRICS_PORT)
    assert answered.status_code == 200 and "kazbill_api_requests_total" in answered.text
    assert scrape(client, 8000).status_code == 404
    assert client.simulate_get("/metrics", headers={"Host": f"localhost:{METRICS_PORT}"}).status_code == 404
