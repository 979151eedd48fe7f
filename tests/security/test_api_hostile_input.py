"""What schemathesis does not send: JSON a Python encoder cannot write (1e999999, lone surrogates,
100,000 levels of nesting) and query values Python reads as digits ("²"). Every operation the
OpenAPI document lists gets them, in its body fields, its query parameters and its path, with a
real token and a real account; whatever it gets, the API answers below 500."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import pytest
from falcon import testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from crossbar_api.app import ROUTES, create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from crossbar_api.openapi import openapi_document
from testkit.fixtures.api_world import MSK, ApiWorld, md5

# JSON literals, as text: what a client in another language can send and Python cannot encode.
HOSTILE_JSON = (
    "1e999999",
    "-1e999999",
    "1e-999999",
    "9" * 30,
    "1." + "0" * 30 + "1",
    "0e-999999",
    "-0",
    "1E+2",
    '"\\ud800"',
    '"a\\u0000b"',
    '"\\udfff\\ud800"',
    '"²"',
    '"9999-12-31"',
    '"0001-01-01"',
    '"' + "x" * 10_000 + '"',
    "[" * 100_000 + "]" * 100_000,
    '{"a": ' * 70 + "{}" + "}" * 70,
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    '""',
)
# Query and path values, already percent-encoded where they are not ASCII.
HOSTILE_QUERY = (
    "%C2%B2",
    "%C2%B2:x",
    "9" * 30,
    "1" * 14,
    "%ED%A0%80",
    "%FF",
    "-1",
    "",
    "1e999999",
    "0001-01-01",
    "9999-12-31",
    "%00",
    "%D9%A3",
    "99999999999999:x",
    "true",
    "maybe",
    "0",
    "63900000000",
)


@pytest.fixture(scope="module")
def hostile_api(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("hostile") / "api.sqlite3")
    world = ApiWorld(store).build()
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"hostile-secret-0123456789", 3600),
        attempts=AttemptLimiter(10**9, 1),
    )
    client = testing.TestClient(create_app(deps))
    login = client.simulate_put(
        "/v2/user_auth", json={"data": {"credentials": md5("root:secret"), "account_name": "Master"}}
    )
    yield client, login.json["auth_token"], world.ids
    store.close()


def _operations() -> list[tuple[str, str, dict]]:
    paths = openapi_document(ROUTES)["paths"]
    return [
        (path, method, operation) for path, item in sorted(paths.items()) for method, operation in sorted(item.items())
    ]


def _fields(operation: dict) -> list[str]:
    body = operation.get("requestBody")
    if not body:
        return []
    return sorted(body["content"]["application/json"]["schema"]["properties"]["data"]["properties"])


def _query(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


@st.composite
def hostile_request(draw, path: str, operation: dict, ids: dict) -> tuple[str, str, bytes | None]:
    def path_value(match: re.Match) -> str:
        if match.group(1) == "account_id":
            return draw(st.sampled_from((ids["customer"], ids["reseller"])))
        return draw(st.sampled_from(HOSTILE_QUERY + ("202611", "x")))

    url = re.sub(r"{(\w+)}", path_value, path)
    names = _query(operation)
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))) if names else []
    query = "&".join(f"{name}={draw(st.sampled_from(HOSTILE_QUERY))}" for name in chosen)
    fields = _fields(operation)
    if not fields:
        return url, query, None
    members = draw(st.lists(st.sampled_from(fields + ["unknown"]), unique=True, min_size=1, max_size=3))
    data = ", ".join(f'"{name}": {draw(st.sampled_from(HOSTILE_JSON))}' for name in members)
    body = draw(
        st.sampled_from(
            (
                f'{{"data": {{{data}}}}}',
                f'{{"data": {draw(st.sampled_from(HOSTILE_JSON))}}}',
                draw(st.sampled_from(HOSTILE_JSON)),
            )
        )
    )
    return url, query, body.encode("utf-8")


@pytest.mark.parametrize(
    "path, method, operation", _operations(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_hostile_values_in_any_field_parameter_or_path_never_make_the_api_fail(hostile_api, path, method, operation):
    client, auth_token, ids = hostile_api

    @given(request=hostile_request(path, operation, ids))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(request):
        url, query, body = request
        result = client.simulate_request(
            method.upper(),
            quote(url, safe="/%:"),
            query_string=query,
            body=body,
            headers={"X-Auth-Token": auth_token, "Content-Type": "application/json"},
        )
        assert result.status_code < 500, (
            f"{method.upper()} {url}?{query} {body!r:.200} -> {result.status_code}: {result.text[:300]}"
        )
        assert "Traceback" not in result.text

    check()
