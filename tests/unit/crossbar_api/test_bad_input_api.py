"""Bad input answers 4xx naming its field and changes nothing; a busy store answers 503. Issue 20,
item 7: each case here answered 5xx once."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.settings import ONBILL_DOC_ID
from crossbar_api.app import ROUTES, create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from tests.unit.crossbar_api.test_api import token

JSON = {"Content-Type": "application/json"}
DEEP = '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"


def nested(levels: int) -> str:
    """JSON text of objects nested `levels` deep (json.dumps itself recurses once per level)."""
    return '{"a": ' * levels + "{}" + "}" * levels


def assert_refused(result, field: str, status: int = 400) -> None:
    assert result.status_code == status, result.text[:300]
    body = result.json
    assert body["status"] == "error" and body["error"] == str(status) and field in body["data"], body
    assert "Traceback" not in result.text


def balance(client, headers, account_id: str):
    return client.simulate_get(f"/v2/accounts/{account_id}/ledgers/total", headers=headers).json["data"]["amount"]


@pytest.mark.parametrize("direction", ["credit", "debit"])
@pytest.mark.parametrize("literal", ["1e999999", "-1e999999", "1e-999999", "9" * 30, "1.000000000000000000001"])
def test_an_amount_no_decimal_can_hold_is_400_naming_amount_even_without_a_token(api, direction, literal):
    client, world, _ = api
    url = f"/v2/accounts/{world.ids['customer']}/ledgers/{direction}"
    result = client.simulate_put(url, body=f'{{"data": {{"amount": {literal}}}}}', headers=JSON)
    assert_refused(result, "amount")
    assert balance(client, {"X-Auth-Token": token(client, world, "reseller")}, world.ids["customer"]) == 0


@pytest.mark.parametrize("field", ["max_postpay_amount", "reserve_amount"])
@pytest.mark.parametrize("literal", ["1e999999", "1e20", "-1", "0.00001"])
def test_a_private_limit_no_one_could_mean_is_400_naming_it_and_nothing_is_saved(api, field, literal):
    client, world, _ = api
    customer = world.ids["customer"]
    before = world.store.get_many(account_db(customer), ["limits"]).get("limits")
    result = client.simulate_patch(
        f"/v2/accounts/{customer}/onbill_pvt_limits",
        body=f'{{"data": {{"{field}": {literal}}}}}',
        headers={**JSON, "X-Auth-Token": token(client, world, "sub")},
    )
    assert_refused(result, field)
    assert world.store.get_many(account_db(customer), ["limits"]).get("limits") == before


def _responds_to(route, method: str) -> bool:
    resource = route.make if isinstance(route.make, type) else route.make(None)
    return hasattr(resource, f"on_{method}")


BODY_ENTRANCES = sorted(
    {
        (route.path, method)
        for route in ROUTES
        if route.body
        for method in ("put", "post", "patch")
        if _responds_to(route, method)
    }
)


@pytest.mark.parametrize("path, method", BODY_ENTRANCES)
def test_a_body_nested_100000_levels_is_400_at_every_entrance(api, path, method):
    client, world, _ = api
    url = path.replace("{account_id}", world.ids["customer"]).replace("{", "").replace("}", "")
    result = client.simulate_request(
        method.upper(), url, body=DEEP, headers={**JSON, "X-Auth-Token": token(client, world, "reseller")}
    )
    assert_refused(result, "data")
    assert result.json["data"]["data"]["depth"]["message"]


def test_a_login_nested_100000_levels_is_400_without_a_token(api):
    client, _, _ = api
    assert_refused(client.simulate_put("/v2/user_auth", body=DEEP, headers=JSON), "data")


@pytest.mark.parametrize("method", [[], {}, ["md5"], 5, None, "sha256"])
def test_a_login_whose_method_is_no_name_of_one_is_400_naming_method(api, method):
    """A list is no key of the methods (it made the login fail with 500: found by the hostile
    input test, `{"account_name": -0, "method": []}`)."""
    client, _, _ = api
    body = {"data": {"credentials": "0" * 32, "account_name": "Reseller", "method": method}}
    assert_refused(client.simulate_put("/v2/user_auth", json=body), "method")


@pytest.mark.parametrize("levels", [65, 100, 5_000])
def test_an_onbill_patch_nested_deeper_than_64_levels_is_400_and_saves_nothing(api, levels):
    client, world, _ = api
    reseller = world.ids["reseller"]
    before = world.store.get(account_db(reseller), ONBILL_DOC_ID)
    result = client.simulate_patch(
        f"/v2/accounts/{reseller}/onbill",
        body=f'{{"data": {{"charging": {nested(levels)}}}}}',
        headers={**JSON, "X-Auth-Token": token(client, world, "reseller")},
    )
    assert_refused(result, "data")
    assert world.store.get(account_db(reseller), ONBILL_DOC_ID) == before


RANGES = ("transactions", "ledgers", "ledgers/payments")
PAGED = ("transactions", "ledgers/payments")


@pytest.mark.parametrize(
    "path, query, field",
    [
        *(
            (path, query, field)
            for path in RANGES
            for query, field in [
                ("created_to=²", "created_to"),
                ("created_to=" + "9" * 30, "created_to"),
                ("created_from=" + "1" * 30, "created_from"),
                ("created_to=99999999999999", "created_to"),
                ("created_to=1", "created_to"),
                ("created_to=-5", "created_to"),
                ("created_to=%D9%A3", "created_to"),
            ]
        ),
        *(
            (path, query, field)
            for path in PAGED
            for query, field in [
                ("start_key=²:x", "start_key"),
                ("start_key=" + "9" * 30 + ":x", "start_key"),
                ("page_size=²", "page_size"),
                ("page_size=" + "9" * 30, "page_size"),
            ]
        ),
    ],
)
def test_query_parameters_take_only_ascii_digits_of_bounded_length(api, path, query, field):
    client, world, _ = api
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['customer']}/{path}",
        query_string=query,
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert_refused(result, field)


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("billing_periods/9999-12-31", "", "start"),
        ("billing_periods/0001-01-01", "", "start"),
        ("billing_periods/２０２６-１１-１０", "", "start"),
        ("audit", "from=0001-01-01&to=0001-01-05", "from"),
        ("audit", "from=2026-01-01&to=9999-12-31", "to"),
        ("audit", "from=2026-01-01&to=2026-01-02&subtree=maybe", "subtree"),
        ("onbills", "period=9999-12-31", "period"),
    ],
)
def test_days_are_read_within_the_years_every_computation_can_name(api, path, query, field):
    client, world, _ = api
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['customer']}/{path}",
        query_string=query,
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert_refused(result, field)


@pytest.mark.parametrize("period_start", ["9999-12-01", "0001-01-01", 20261101, None])
def test_documents_for_a_period_no_calendar_holds_are_refused_naming_period_start(api, period_start):
    client, world, _ = api
    result = client.simulate_put(
        f"/v2/accounts/{world.ids['customer']}/onbills/generate",
        json={"data": {"period_start": period_start}},
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert_refused(result, "period_start")


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"data": {"amount": 1, "description": "\\ud800"}}', "description"),
        ('{"data": {"amount": 1, "metadata": {"note": "a\\u0000b"}}}', "metadata.note"),
        ('{"data": {"amount": 1, "metadata": {"\\udfff": 1}}}', "metadata"),
        ('{"data": {"amount": 1, "metadata": {"list": [1, 1e999999]}}}', "metadata.list[1]"),
        ('{"data": {"amount": 1, "metadata": {"x": NaN}}}', "data"),
        (b'{"data": {"amount": 1, "description": "caf\xe9"}}', "data"),
        ('{"data": {"amount": 1}}'.encode("utf-16"), "data"),
    ],
)
def test_text_and_numbers_no_store_can_keep_are_400_naming_where_they_are(api, body, field):
    client, world, _ = api
    headers = {**JSON, "X-Auth-Token": token(client, world, "reseller")}
    result = client.simulate_put(f"/v2/accounts/{world.ids['customer']}/ledgers/credit", body=body, headers=headers)
    assert_refused(result, field)
    assert balance(client, headers, world.ids["customer"]) == 0


def test_an_idempotency_key_with_control_characters_is_400_naming_it(api):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "wire\x01"}
    result = client.simulate_put(
        f"/v2/accounts/{world.ids['customer']}/ledgers/credit", json={"data": {"amount": 1}}, headers=headers
    )
    assert_refused(result, "Idempotency-Key")


def test_fractions_in_settings_and_ledger_metadata_are_kept_as_sent(api):
    client, world, _ = api
    reseller, customer = world.ids["reseller"], world.ids["customer"]
    headers = {**JSON, "X-Auth-Token": token(client, world, "reseller")}
    saved = client.simulate_patch(
        f"/v2/accounts/{reseller}/onbill", body='{"data": {"vat_rate": 20.5}}', headers=headers
    )
    assert saved.status_code == 200 and '"vat_rate":20.5' in saved.text
    posted = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        body='{"data": {"amount": 12.5, "metadata": {"rate": 0.015}}}',
        headers=headers,
    )
    assert posted.status_code == 201 and '"rate":0.015' in posted.text
    too_precise = client.simulate_patch(
        f"/v2/accounts/{reseller}/onbill", body='{"data": {"vat_rate": 20.0000000000000001}}', headers=headers
    )
    assert_refused(too_precise, "vat_rate")


@pytest.fixture
def busy_api(tmp_path):
    """The API on a store file that gives up on a lock at once, as a busy file does past its
    timeout; `lock()` holds the file as another process would."""
    path = tmp_path / "busy.sqlite3"
    store = EmbeddedStore(path, busy_timeout_s=0.05)
    world = ApiWorld(store).build()
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"test-secret-0123456789", 3600),
        attempts=AttemptLimiter(5, 300),
    )
    other = sqlite3.connect(path, isolation_level=None)
    yield testing.TestClient(create_app(deps)), world, other
    other.close()
    store.close()


@pytest.mark.parametrize("direction", ["credit", "debit"])
def test_a_manual_posting_while_the_store_is_locked_is_503_and_can_be_repeated(busy_api, direction):
    client, world, other = busy_api
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": f"{direction}-while-locked"}
    url = f"/v2/accounts/{world.ids['customer']}/ledgers/{direction}"
    other.execute("BEGIN EXCLUSIVE")
    refused = client.simulate_put(url, headers=headers, json={"data": {"amount": 10}})
    other.execute("ROLLBACK")
    assert_refused(refused, "store", status=503)
    assert int(refused.headers["Retry-After"]) > 0 and refused.json["message"] == "service unavailable"
    assert balance(client, headers, world.ids["customer"]) == 0
    assert client.simulate_put(url, headers=headers, json={"data": {"amount": 10}}).status_code == 201
    assert client.simulate_put(url, headers=headers, json={"data": {"amount": 10}}).status_code == 200
    assert balance(client, headers, world.ids["customer"]) == (10 if direction == "credit" else -10)


def test_a_posting_to_an_account_whose_documents_cannot_be_billed_is_400_naming_the_field(api):
    """The posting's refusal is raised (PostingRefused) and mapped once, here, to crossbar's 400."""
    client, world, _ = api
    customer = world.ids["customer"]
    store = world.store
    limits = store.get(account_db(customer), "limits")
    store.put(account_db(customer), {**limits, "pvt_allow_postpay": True, "pvt_max_postpay_amount": "lots"})
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "wire-to-a-broken-account"}
    refused = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit", headers=headers, json={"data": {"amount": 10}}
    )
    assert_refused(refused, "limits.pvt_max_postpay_amount")
    assert refused.json["message"] == "the account cannot be billed"


def test_undoing_a_manual_credit_once_the_accounts_documents_broke_is_the_same_400_and_keeps_the_credit(api):
    client, world, _ = api
    customer = world.ids["customer"]
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{customer}"
    entry = client.simulate_put(
        f"{url}/ledgers/credit", headers={**headers, "Idempotency-Key": "w-before-break"}, json={"data": {"amount": 40}}
    ).json["data"]["id"]
    limits = world.store.get(account_db(customer), "limits")
    world.store.put(account_db(customer), {**limits, "pvt_allow_postpay": True, "pvt_max_postpay_amount": "lots"})
    refused = client.simulate_delete(f"{url}/ledgers/{entry}", headers=headers)
    assert_refused(refused, "limits.pvt_max_postpay_amount")
    assert refused.json["message"] == "the account cannot be billed"
    world.store.put(
        account_db(customer), {**world.store.get(account_db(customer), "limits"), "pvt_max_postpay_amount": 0}
    )
    assert balance(client, headers, customer) == 40  # nothing was undone
