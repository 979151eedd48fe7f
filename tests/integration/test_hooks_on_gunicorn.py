"""The payment hooks as served by `kazbill api` (gunicorn, four workers) on a CouchDB-compatible
server of the test's own: ten concurrent deliveries of one PayPal payment credit it once."""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from bookkeeper.services.payments.hook_attempts import HOOKS_DB, attempt_id
from testkit.fixtures.api_world import ApiWorld, md5
from testkit.support.api_server import call, couch, serving_api
from testkit.support.paypal_verifier import PayPalVerifier

pytestmark = pytest.mark.integration


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_ten_concurrent_deliveries_of_one_payment_credit_it_once(own_couch_url, tmp_path):
    store = CouchDbStore(own_couch_url)
    world = ApiWorld(store).build()
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    save_gateway_settings(store, reseller, "paypal_config", {"enabled": True, "receiver_id": "VOLNA0001"}, 0)
    with PayPalVerifier() as paypal:
        body = paypal.sent(
            urlencode(
                {
                    "payment_status": "Completed",
                    "receiver_id": "VOLNA0001",
                    "mc_currency": "RUB",
                    "mc_gross": "777.00",
                    "txn_id": "CONCURRENT01",
                    "custom": customer,
                    "charset": "UTF-8",
                }
            ).encode()
        )
        env = {"KAZBILL_PAYPAL_VERIFY_URL": paypal.url, "KAZBILL_PAYPAL_SANDBOX_VERIFY_URL": paypal.url}
        with serving_api(couch(own_couch_url), tmp_path / "gunicorn.log", env, workers=4) as base:
            with ThreadPoolExecutor(10) as pool:
                statuses = list(pool.map(lambda _: post(f"{base}/hooks/paypal/{reseller}", body), range(10)))
            assert statuses == [200] * 10
            status, login = call(
                base, "PUT", "/v2/user_auth", {"credentials": md5("boss:secret"), "account_name": "Reseller"}
            )
            status, total = call(base, "GET", f"/v2/accounts/{customer}/ledgers/total", token=login["auth_token"])
            assert (status, str(total["data"]["amount"])) == (200, "777")
    record = store.get(HOOKS_DB, attempt_id("paypal", body))
    outcomes = [delivery["outcome"] for delivery in record["deliveries"]]
    assert record["count"] == 10 and sorted(outcomes) == ["credited"] + ["duplicate"] * 9
    assert len(paypal.postbacks) == 10
    store.close()
