"""Schemathesis generates requests from the API's own OpenAPI document, with a valid token and
with the ids of real accounts mixed in; whatever it sends, the API never answers 5xx."""

from __future__ import annotations

from datetime import datetime

import pytest
import schemathesis
from falcon import testing
from hypothesis import HealthCheck, given, settings

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from crossbar_api.login_throttle import LoginPolicy
from testkit.fixtures.api_world import MSK, ApiWorld, md5

STATE: dict = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("fuzz") / "api.sqlite3")
    world = ApiWorld(store).build()
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"fuzz-secret-0123456789", 3600),
        attempts=AttemptLimiter(10**9, 1),
        login_policy=LoginPolicy(free_failures=10**9),
    )
    app = create_app(deps)

    def fresh_token() -> str:
        return (
            testing.TestClient(app)
            .simulate_put("/v2/user_auth", json={"data": {"credentials": md5("root:secret"), "account_name": "Master"}})
            .json["auth_token"]
        )

    def still_valid(token: str) -> bool:
        return (
            testing.TestClient(app)
            .simulate_get(
                f"/v2/accounts/{world.ids['customer']}/transactions/current_balance", headers={"X-Auth-Token": token}
            )
            .status_code
            == 200
        )

    STATE.update(token=fresh_token(), fresh_token=fresh_token, still_valid=still_valid, customer=world.ids["customer"])
    yield schemathesis.openapi.from_wsgi("/v2/openapi.json", app)
    store.close()


def test_no_request_the_schema_allows_makes_the_api_fail(api_schema):
    # Driven by hand (one Hypothesis run per operation): schemathesis's pytest plugin does not
    # run under this pytest.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    seen: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            if "account_id" in (case.path_parameters or {}) and len(seen) % 2:
                case.path_parameters["account_id"] = STATE["customer"]  # half the time, a real account
            # The schema declares the token header, so schemathesis fills it with noise: put a real one
            # (logout gets one of its own, or every operation after it would only meet 401s).
            token = STATE["fresh_token"]() if case.path == "/v2/token_auth" else STATE["token"]
            case.headers = {**(case.headers or {}), "X-Auth-Token": token}
            response = case.call()
            seen.append(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )

        check()
    # Both kinds of answer were exercised: accepted requests and refused ones.
    assert any(200 <= code < 300 for code in seen) and any(400 <= code < 500 for code in seen)
    assert STATE["still_valid"](STATE["token"])  # every operation met a token that worked
