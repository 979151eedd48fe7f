"""The crossbar API through falcon's TestClient, on a throwaway embedded store."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.billing import crawl_plan
from crossbar_api.app import ROUTES
from testkit.fixtures.api_world import MSK, md5
from testkit.fixtures.billing_world import gregorian
from tests.unit.crossbar_api.conftest import METRICS_TOKEN

METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def login(client, account_name: str, username: str, password: str = "secret"):
    return client.simulate_put(
        "/v2/user_auth", json={"data": {"credentials": md5(f"{username}:{password}"), "account_name": account_name}}
    )


def token(client, world, who: str) -> str:
    names = {"master": ("Master", "root"), "reseller": ("Reseller", "boss"), "clerk": ("Customer", "clerk")}
    account_name, username = names.get(who, (who.replace("_", " ").title(), f"admin-{who}"))
    result = login(client, account_name, username)
    assert result.status_code == 201, result.json
    return result.json["auth_token"]


def test_a_user_logs_in_with_kazoos_md5_credentials_and_gets_a_token(api):
    client, world, _ = api
    result = login(client, "Reseller", "boss")
    assert result.status_code == 201
    body = result.json
    assert body["status"] == "success" and body["auth_token"] and body["request_id"]
    assert body["data"]["account_id"] == world.ids["reseller"] and body["data"]["is_superduper_admin"] is False
    assert result.headers["X-Request-ID"] == body["request_id"]


def test_wrong_credentials_are_401_and_guessing_is_stopped_with_429(api):
    client, _, clock = api
    for _ in range(5):
        assert login(client, "Reseller", "boss", "guess").status_code == 401
    refused = login(client, "Reseller", "boss", "guess")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"] == "429" and refused.json["status"] == "error"
    assert login(client, "Reseller", "boss").status_code == 429  # the account is still cooling down
    clock.advance(timedelta(seconds=int(refused.headers["Retry-After"])))
    assert login(client, "Customer", "clerk").status_code == 429  # and so is the address (this worker's count)


def test_an_api_key_logs_in_as_the_accounts_admin(api):
    client, world, _ = api
    result = client.simulate_put("/v2/api_auth", json={"data": {"api_key": "key-" + world.ids["customer"]}})
    assert result.status_code == 201 and result.json["data"]["account_id"] == world.ids["customer"]
    assert client.simulate_put("/v2/api_auth", json={"data": {"api_key": "key-nobody-at-all"}}).status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ("", "data"),
        ("{not json", "data"),
        ('{"data": []}', "data"),
        ("[1, 2]", "data"),
        ('{"data": {"credentials": "abc", "account_name": "Reseller"}}', "credentials"),
        (f'{{"data": {{"credentials": "{md5("x")}", "account_name": "Reseller", "extra": 1}}}}', "extra"),
        (f'{{"data": {{"credentials": "{md5("x")}"}}}}', "account_name"),
        (f'{{"data": {{"credentials": "{md5("x")}", "account_name": "Reseller", "method": "rot13"}}}}', "method"),
    ],
)
def test_a_bad_login_body_is_400_naming_the_field(api, body, field):
    client, _, _ = api
    result = client.simulate_put("/v2/user_auth", body=body, headers={"Content-Type": "application/json"})
    assert result.status_code == 400 and field in result.json["data"], result.json
    assert result.json["error"] == "400" and result.json["message"] == "invalid data"


def test_a_credit_with_an_idempotency_key_is_posted_once_and_the_repeat_returns_the_first_answer(api):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "wire-2026-11-10-001"}
    url = f"/v2/accounts/{world.ids['customer']}/ledgers/credit"
    first = client.simulate_put(url, headers=headers, json={"data": {"amount": 1500.25, "description": "Bank"}})
    again = client.simulate_put(url, headers=headers, json={"data": {"amount": 1500.25, "description": "Bank"}})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["data"]["id"] == again.json["data"]["id"] and again.json["data"] == first.json["data"]
    assert '"amount":1500.25,' in again.text  # exact digits, never a float
    other = client.simulate_put(url, headers=headers, json={"data": {"amount": 99}})
    assert other.status_code == 409 and "Idempotency-Key" in other.json["data"]
    total = client.simulate_get(
        f"/v2/accounts/{world.ids['customer']}/transactions/current_balance",
        headers={"X-Auth-Token": headers["X-Auth-Token"]},
    )
    assert json.loads(total.text, parse_float=Decimal)["data"]["balance"] == Decimal("1500.25")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"amount": "12.50"}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 1.23456}, "amount"),
        ({"amount": True}, "amount"),
        ({}, "amount"),
        ({"amount": 10, "pvt_amount": 10}, "pvt_amount"),
        ({"amount": 10, "reason": "paypal"}, "reason"),
        ({"amount": 10, "description": 42}, "description"),
        ({"amount": 1e20}, "amount"),
    ],
)
def test_a_bad_credit_body_is_400_naming_the_field_and_changes_nothing(api, data, field):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer']}"
    result = client.simulate_put(f"{url}/ledgers/credit", headers=headers, json={"data": data})
    assert result.status_code == 400 and field in result.json["data"], result.json
    assert client.simulate_get(f"{url}/ledgers/total", headers=headers).json["data"]["amount"] == 0


def test_a_huge_body_is_400_naming_its_size(api):
    client, world, _ = api
    result = client.simulate_put(
        f"/v2/accounts/{world.ids['customer']}/ledgers/credit",
        headers={"X-Auth-Token": token(client, world, "reseller")},
        body='{"data": {"description": "' + "x" * 300_000 + '"}}',
    )
    assert result.status_code == 400 and result.json["data"]["data"]["size"]["message"]


def test_transactions_page_newest_first_with_an_opaque_start_key(api):
    client, world, clock = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer']}"
    for n in range(5):
        clock.set(datetime(2026, 11, 10, 12, n, tzinfo=MSK))
        client.simulate_put(
            f"{url}/ledgers/credit", headers={**headers, "Idempotency-Key": f"k{n}"}, json={"data": {"amount": n + 1}}
        )
    first = client.simulate_get(f"{url}/transactions", headers=headers, params={"page_size": 2})
    assert [Decimal(str(t["amount"])) for t in first.json["data"]] == [5, 4] and first.json["page_size"] == 2
    second = client.simulate_get(
        f"{url}/transactions", headers=headers, params={"page_size": 2, "start_key": first.json["next_start_key"]}
    )
    assert [Decimal(str(t["amount"])) for t in second.json["data"]] == [3, 2]
    assert all(not key.startswith("pvt_") for t in first.json["data"] for key in t)
    bad = client.simulate_get(f"{url}/transactions", headers=headers, params={"created_from": "yesterday"})
    assert bad.status_code == 400 and "created_from" in bad.json["data"]


def test_transactions_made_in_the_same_second_are_each_on_one_page(api):
    client, world, clock = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer']}"
    clock.set(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    for n in range(5):
        client.simulate_put(
            f"{url}/ledgers/credit", headers={**headers, "Idempotency-Key": f"s{n}"}, json={"data": {"amount": n + 1}}
        )
    amounts, params = [], {"page_size": 2}
    for _ in range(5):
        page = client.simulate_get(f"{url}/transactions", headers=headers, params=params).json
        amounts += [Decimal(str(t["amount"])) for t in page["data"]]
        if "next_start_key" not in page:
            break
        params = {"page_size": 2, "start_key": page["next_start_key"]}
    assert sorted(amounts) == [1, 2, 3, 4, 5]


def test_tokens_are_required_checked_and_expire(api):
    client, world, clock = api
    url = f"/v2/accounts/{world.ids['customer']}/ledgers/total"
    assert client.simulate_get(url).status_code == 401
    assert client.simulate_get(url, headers={"X-Auth-Token": "forged.token"}).status_code == 401
    good = token(client, world, "customer")
    assert client.simulate_get(url, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert client.simulate_get(url, params={"auth_token": good}).status_code == 200
    clock.set(datetime(2026, 11, 10, 14, 0, tzinfo=MSK))
    assert client.simulate_get(url, headers={"X-Auth-Token": good}).status_code == 401


def test_unknown_accounts_and_paths_answer_in_crossbars_error_shape(api):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "master")}
    missing = client.simulate_get(f"/v2/accounts/{'9' * 32}/ledgers/total", headers=headers)
    assert missing.status_code == 404 and missing.json["error"] == "404"
    assert client.simulate_get("/v2/accounts/not-an-id/ledgers/total", headers=headers).status_code == 404
    nowhere = client.simulate_get("/v2/nowhere")
    assert nowhere.status_code == 404 and nowhere.json["status"] == "error" and nowhere.json["request_id"]
    wrong_method = client.simulate_delete("/v2/user_auth")
    assert wrong_method.status_code == 405 and wrong_method.json["error"] == "405"


def test_billing_status_shows_the_period_standing_and_balance(api):
    client, world, _ = api
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['customer']}/billing_status",
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    data = result.json["data"]
    # The customer's reseller is the nearest reseller above it, the sub-reseller, which (like the
    # master) sets no currency: the built-in default applies, not the top reseller's roubles.
    assert data["reseller_id"] == world.ids["sub"]
    assert (data["currency"], data["billing_day"], data["standing"], data["blocked"], data["trial"]) == (
        "USD",
        1,
        "good_standing",
        False,
        False,
    )
    assert data["current_period"] == {"start": "2026-11-01", "end": "2026-11-30", "days": 30, "days_left": 21}


def test_the_openapi_document_lists_every_route_the_app_serves(api):
    client, _, _ = api
    document = client.simulate_get("/v2/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {route.path for route in ROUTES}
    assert "put" in document["paths"]["/v2/accounts/{account_id}/ledgers/credit"]
    assert client.simulate_get("/health").json["data"]["store"]["ok"] is True


def test_services_show_quantities_prices_and_the_estimated_monthly_cost(api):
    client, world, _ = api
    world.world.add_devices(world.ids["customer_two"], 3)
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['customer_two']}/services", headers={"X-Auth-Token": token(client, world, "reseller")}
    )
    data = json.loads(result.text, parse_float=Decimal)["data"]
    assert data["plan"] == {"id": "plan_office", "name": "Office"} and data["currency"] == "RUB"
    assert data["items"] == [
        {
            "category": "devices",
            "item": "sip_device",
            "name": "sip_device",
            "quantity": 3,
            "billable_quantity": 3,
            "rate": 500,
            "discount": 0,
            "monthly_cost": 1500,
            "charging": "monthly",
        }
    ]
    assert data["estimated_monthly_cost"] == 1500


def test_reconcile_bills_what_changed_and_answers_the_events(api):
    client, world, _ = api
    world.world.add_devices(world.ids["customer_two"], 2)
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer_two']}/services/reconcile"
    events = client.simulate_post(url, headers=headers).json["data"]
    assert [(e["event"], e.get("amount")) for e in events] == [
        ("charged", 1000),
        ("period_opened", None),
    ]  # 2 × 500: a full month
    assert client.simulate_post(url, headers=headers).json["data"] == []


def test_a_manual_credit_is_deleted_by_its_reseller_with_an_opposite_entry(api):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer']}"
    entry = client.simulate_put(
        f"{url}/ledgers/credit", headers={**headers, "Idempotency-Key": "w1"}, json={"data": {"amount": 40}}
    ).json["data"]["id"]
    own = {"X-Auth-Token": token(client, world, "customer")}
    assert client.simulate_delete(f"{url}/ledgers/{entry}", headers=own).status_code == 403
    deleted = client.simulate_delete(f"{url}/ledgers/{entry}", headers=headers)
    assert deleted.status_code == 200 and deleted.json["data"]["deleted"] == entry
    assert client.simulate_get(f"{url}/ledgers/total", headers=headers).json["data"]["amount"] == 0
    assert client.simulate_delete(f"{url}/ledgers/202611-kazbill-mrc-x", headers=headers).status_code == 404


def test_onbill_settings_merge_validate_and_keep_private_fields(api):
    client, world, _ = api
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['customer']}/onbill"
    db = account_db(world.ids["customer"])
    world.store.put(db, {**world.store.get(db, "onbill"), "pvt_contract_number": "C-77"})
    changed = client.simulate_patch(
        url, headers=reseller, json={"data": {"billing_day": 15, "payment_type": "postpay"}}
    )
    assert changed.status_code == 200 and changed.json["data"]["billing_day"] == 15
    assert "pvt_contract_number" not in changed.json["data"]
    assert world.store.get(db, "onbill")["pvt_contract_number"] == "C-77"
    bad = client.simulate_patch(url, headers=reseller, json={"data": {"billing_day": 32}})
    assert bad.status_code == 400 and "billing_day" in bad.json["data"]
    assert client.simulate_patch(url, headers=reseller, json={"data": {"pvt_credit": 5}}).status_code == 400
    own = {"X-Auth-Token": token(client, world, "customer")}
    assert client.simulate_patch(url, headers=own, json={"data": {"manual_block": False}}).status_code == 403
    assert client.simulate_patch(url, headers=own, json={"data": {"language": "ru-RU"}}).status_code == 200
    assert client.simulate_get(url, headers=own).json["data"]["billing_day"] == 15
    currency = client.simulate_patch(
        f"/v2/accounts/{world.ids['sub']}/onbill",
        headers=reseller,
        json={"data": {"currency": "EUR", "timezone": "Mars/Base"}},
    )
    assert currency.status_code == 400 and "timezone" in currency.json["data"]


def test_the_settings_say_which_language_the_account_is_written_to_in_and_why(api):
    """An account that asks for a language Kazbill has no words for is written to in its
    reseller's, and its settings say so; sending that back in a PATCH changes nothing."""
    client, world, _ = api
    own = {"X-Auth-Token": token(client, world, "customer")}
    url = f"/v2/accounts/{world.ids['customer']}/onbill"
    asked = client.simulate_patch(url, headers=own, json={"data": {"language": "fi-FI"}})
    assert asked.status_code == 200, asked.json
    used = asked.json["data"]["language_used"]
    assert used["asked"] == "fi-FI" and used["available"] == ["en", "ru", "de"]
    assert (used["language"], used["from"]) == ("en", "reseller")  # the reseller's locale (en_US)
    german = client.simulate_patch(url, headers=own, json={"data": {"language": "de-DE", "language_used": used}})
    assert german.status_code == 200 and german.json["data"]["language_used"]["language"] == "de"
    assert german.json["data"]["language_used"]["from"] == "account"
    assert "language_used" not in world.store.get(account_db(world.ids["customer"]), "onbill")  # computed, not kept


def test_metrics_count_requests_by_route_and_status(api):
    client, world, _ = api
    client.simulate_get("/v2/nowhere")
    login(client, "Reseller", "boss")
    text = client.simulate_get("/metrics", headers=METRICS).text
    assert 'kazbill_api_requests_total{method="PUT",route="/v2/user_auth",status="201"} 1' in text
    assert 'route="unmatched",status="404"' in text
    assert "kazbill_store_up 1" in text


def test_metrics_show_the_services_state_from_the_store(api):
    client, world, clock = api
    customer = world.ids["customer_two"]
    world.world.add_devices(customer, 1)
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    client.simulate_post(f"/v2/accounts/{customer}/services/reconcile", headers=headers)
    world.store.put(
        account_db(customer),
        {"_id": "limits", **world.store.get(account_db(customer), "limits"), "twoway_trunks": 10**30},
    )  # a count no plan can price
    client.simulate_post(f"/v2/accounts/{customer}/services/reconcile", headers=headers)
    crawl_plan.mark_crawled(world.store, world.ids["reseller"], date(2026, 11, 7))  # the clock says 10 November
    text = client.simulate_get("/metrics", headers=METRICS).text
    assert 'kazbill_failures{source="bookkeeper",reason="bad_billing_input"} 1' in text
    assert f'kazbill_crawl_days_behind{{reseller="{world.ids["reseller"]}"}} 3' in text
    assert "# TYPE kazbill_changes_behind gauge" in text and "kazbill_nodes_live 0" in text


def test_a_period_shows_opening_balance_payments_fees_and_balance(api):
    client, world, clock = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    customer = world.ids["customer_two"]
    world.world.add_devices(customer, 2)
    client.simulate_post(f"/v2/accounts/{customer}/services/reconcile", headers=headers)  # opens November
    client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        headers={**headers, "Idempotency-Key": "p1"},
        json={"data": {"amount": 300}},
    )
    periods = client.simulate_get(f"/v2/accounts/{customer}/billing_periods", headers=headers).json["data"]
    assert [(p["start"], p["status"], p["opening_balance"], p["balance_when_opened"]) for p in periods] == [
        ("2026-11-01", "open", 0, 0)
    ]
    period = json.loads(
        client.simulate_get(f"/v2/accounts/{customer}/billing_periods/2026-11-01", headers=headers).text,
        parse_float=Decimal,
    )["data"]
    assert (
        period["opening_balance"],
        period["payments"],
        period["monthly_fees"],
        period["per_minute_calls"],
        period["adjustments"],
        period["balance"],
    ) == (0, 300, 1000, 0, 0, -700)
    wrong = client.simulate_get(f"/v2/accounts/{customer}/billing_periods/2026-11-05", headers=headers)
    assert wrong.status_code == 404 and "start" in wrong.json["data"]


def test_a_reseller_extends_and_ends_a_trial(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    for db in ("accounts", account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "pvt_trial_expires": 63_962_000_000})
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{customer}/onbill_trial"
    extended = client.simulate_post(url, headers=headers, json={"data": {"action": "extend", "days": 10}})
    assert extended.status_code == 200 and extended.json["data"]["trial_expires"] == 63_962_000_000 + 864_000
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    assert client.simulate_post(url, headers=own, json={"data": {"action": "end"}}).status_code == 403
    assert client.simulate_post(url, headers=headers, json={"data": {"action": "extend", "days": 0}}).status_code == 400
    ended = client.simulate_post(url, headers=headers, json={"data": {"action": "end"}})
    assert ended.json["data"]["billing_day"] == 10 and "pvt_trial_expires" not in world.store.get("accounts", customer)
    assert client.simulate_post(url, headers=headers, json={"data": {"action": "end"}}).status_code == 409


def test_a_trial_that_has_expired_is_neither_ended_nor_extended(api):
    # Expired on 5 November (the API's clock says the 10th): billed since the 6th. Ending it
    # would make the 10th its billing day and bill the 10th to the 30th again; extending it would
    # make days already billed a trial's.
    client, world, _ = api
    customer = world.ids["customer_two"]
    expired = gregorian(datetime(2026, 11, 5, 12, 0, tzinfo=MSK))
    for db in ("accounts", account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "pvt_trial_expires": expired})
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{customer}/onbill_trial"
    for body in ({"action": "end"}, {"action": "extend", "days": 10}):
        refused = client.simulate_post(url, headers=headers, json={"data": body})
        assert refused.status_code == 409 and "2026-11-05" in refused.json["message"], refused.json
        assert "trial" in refused.json["data"]["action"]
    assert world.store.get("accounts", customer)["pvt_trial_expires"] == expired
    assert world.store.get(account_db(customer), "onbill")["billing_day"] == 1  # as it was


def test_a_reseller_sets_private_limits_kazoo_reads(api):
    client, world, _ = api
    customer = world.ids["customer"]
    headers = {"X-Auth-Token": token(client, world, "sub")}
    url = f"/v2/accounts/{customer}/onbill_pvt_limits"
    changed = client.simulate_patch(
        url, headers=headers, json={"data": {"allow_postpay": True, "max_postpay_amount": 250.5, "twoway_trunks": 4}}
    )
    assert changed.status_code == 200
    assert json.loads(changed.text, parse_float=Decimal)["data"]["max_postpay_amount"] == Decimal("250.5")
    stored = world.store.get(account_db(customer), "limits")
    assert (stored["pvt_allow_postpay"], stored["pvt_max_postpay_amount"], stored["pvt_twoway_trunks"]) == (
        True,
        2_505_000,
        4,
    )
    own = {"X-Auth-Token": token(client, world, "customer")}
    assert client.simulate_patch(url, headers=own, json={"data": {"twoway_trunks": 99}}).status_code == 403
    assert client.simulate_get(url, headers=own).json["data"]["twoway_trunks"] == 4
    bad = client.simulate_patch(url, headers=headers, json={"data": {"twoway_trunks": -1}})
    assert bad.status_code == 400 and "twoway_trunks" in bad.json["data"]


def test_the_audit_endpoint_reports_a_subtree_and_refuses_a_bad_range(api):
    client, world, _ = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    report = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/audit",
        params={"from": "2026-11-01", "to": "2026-11-10", "subtree": "true"},
        headers=headers,
    )
    assert report.status_code == 200, report.json
    assert report.json["data"]["accounts"] >= 4 and "assumptions" in report.json["data"]
    bad = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/audit",
        params={"from": "2026-11-10", "to": "2026-11-01"},
        headers=headers,
    )
    assert bad.status_code == 400 and "to" in bad.json["data"]
    other = client.simulate_get(
        f"/v2/accounts/{world.ids['other_reseller']}/audit",
        params={"from": "2026-11-01", "to": "2026-11-02"},
        headers=headers,
    )
    assert other.status_code == 403


def test_a_period_shows_its_per_minute_calls_per_carrier(api):
    from bookkeeper.domain.calls import FinishedCall
    from bookkeeper.domain.kazoo_names import to_gregorian_seconds
    from bookkeeper.services.billing.account_pass import BillingPorts
    from bookkeeper.services.rating.call_rating import bill_call
    from bookkeeper.services.rating.rate_decks import import_rate_deck

    client, world, clock = api
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    onbill = world.store.get(account_db(reseller), "onbill")
    world.store.put(account_db(reseller), {**onbill, "default_rate_deck": "retail"})
    assert import_rate_deck(
        world.store, reseller, "retail", ["prefix,rate_cost,carrier", "7495,1.20,MTT", "44,6.00,BT"]
    ).report.ok
    ports = BillingPorts(world.store, clock, world.world.design_docs)
    ended = to_gregorian_seconds(int(datetime(2026, 11, 10, 11, 0, tzinfo=MSK).timestamp()))
    for n, (number, seconds) in enumerate([("74951234567", 61), ("74957654321", 30), ("442071234567", 90)]):
        bill_call(ports, FinishedCall(customer, f"call-{n}", seconds, number, "outbound", True, ended, "74950000001"))
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    period = json.loads(
        client.simulate_get(f"/v2/accounts/{customer}/billing_periods/2026-11-01", headers=headers).text,
        parse_float=Decimal,
    )["data"]
    assert period["per_minute_calls"] == Decimal("15.60")  # 2 min + 1 min at 1.20, 2 min at 6.00
    assert period["per_minute_by_carrier"] == [
        {
            "carrier": "BT",
            "calls": 1,
            "billed_seconds": 120,
            "amount": Decimal("12.00"),
            "by_direction": {"outbound": 1},
        },
        {
            "carrier": "MTT",
            "calls": 2,
            "billed_seconds": 180,
            "amount": Decimal("3.60"),
            "by_direction": {"outbound": 2},
        },
    ]
