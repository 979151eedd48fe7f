"""A reseller's gateway settings over the API: who may read and write them, secrets masked,
bad values refused by field with nothing saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import account_db
from tests.unit.crossbar_api.test_api import token

PAYPAL = {
    "enabled": True,
    "receiver_id": "VOLNA0001",
    "receiver_email": "pay@volna.example",
    "min_amount": Decimal("100.00"),
    "max_amount": Decimal("50000"),
}
YANDEX = {"enabled": True, "wallet": "41001000040", "notification_secret": "wallet-secret-0123"}


def path(world, who: str, kind: str) -> str:
    return f"/v2/accounts/{world.ids[who]}/{kind}"


def test_a_reseller_configures_paypal_and_reads_it_back(api):
    client, world, _ = api
    boss = token(client, world, "reseller")
    saved = client.simulate_post(
        path(world, "reseller", "paypal_config"),
        json={"data": {key: str(value) if isinstance(value, Decimal) else value for key, value in PAYPAL.items()}},
        headers={"X-Auth-Token": boss},
    )
    assert saved.status_code == 200, saved.json
    read = client.simulate_get(path(world, "reseller", "paypal_config"), headers={"X-Auth-Token": boss})
    assert read.json["data"] == {
        "enabled": True,
        "receiver_id": "VOLNA0001",
        "receiver_email": "pay@volna.example",
        "min_amount": 100.0,
        "max_amount": 50000,
    }
    assert read.json["revision"] == saved.json["revision"]
    stored = world.store.get(account_db(world.ids["reseller"]), "paypal_config")
    assert (stored["min_amount"], stored["pvt_type"]) == ("100.00", "paypal_config")


def test_secrets_come_back_masked_and_survive_a_round_trip(api):
    client, world, _ = api
    boss = token(client, world, "reseller")
    headers = {"X-Auth-Token": boss}
    client.simulate_post(path(world, "reseller", "yandex_money_config"), json={"data": YANDEX}, headers=headers)
    shown = client.simulate_get(path(world, "reseller", "yandex_money_config"), headers=headers).json["data"]
    assert shown["notification_secret"] == "****0123"
    again = client.simulate_post(
        path(world, "reseller", "yandex_money_config"), json={"data": {**shown, "test_mode": True}}, headers=headers
    )
    assert again.status_code == 200 and "wallet-secret-0123" not in again.text
    stored = world.store.get(account_db(world.ids["reseller"]), "yandex_money_config")
    assert (stored["notification_secret"], stored["test_mode"]) == ("wallet-secret-0123", True)


@pytest.mark.parametrize(
    "caller, target, status",
    [
        ("reseller", "reseller", 200),
        ("master", "reseller", 200),
        ("sub", "sub", 200),
        ("customer_two", "reseller", 403),
        ("other_reseller", "reseller", 403),
        ("sub", "reseller", 403),
        ("reseller", "customer_two", 404),  # not a reseller: it has no gateways
    ],
)
def test_only_the_reseller_and_the_accounts_above_it_reach_its_gateways(api, caller, target, status):
    client, world, _ = api
    answer = client.simulate_get(
        path(world, target, "braintree_config"), headers={"X-Auth-Token": token(client, world, caller)}
    )
    assert answer.status_code == status, answer.json


@pytest.mark.parametrize(
    "data, field",
    [
        ({"enabled": True}, "receiver_id"),
        ({"receiver_id": "lower"}, "receiver_id"),
        ({"currency": "USD"}, "currency"),
        ({"min_amount": "0.001"}, "min_amount"),
        ({"min_amount": "100", "max_amount": "10"}, "max_amount"),
        ({"pvt_enabled": True}, "pvt_enabled"),
        ({"webhook": "http://x"}, "webhook"),
    ],
)
def test_bad_gateway_settings_are_400_naming_the_field_and_nothing_is_saved(api, data, field):
    client, world, _ = api
    answer = client.simulate_post(
        path(world, "reseller", "paypal_config"),
        json={"data": data},
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert answer.status_code == 400 and field in answer.json["data"], answer.json
    assert world.store.get_many(account_db(world.ids["reseller"]), ["paypal_config"]) == {}


def test_a_customer_admin_cannot_write_its_resellers_settings_and_yandex_needs_roubles(api):
    client, world, _ = api
    customer = client.simulate_post(
        path(world, "reseller", "yandex_money_config"),
        json={"data": YANDEX},
        headers={"X-Auth-Token": token(client, world, "customer_two")},
    )
    assert customer.status_code == 403
    client.simulate_patch(
        f"/v2/accounts/{world.ids['other_reseller']}/onbill",
        json={"data": {"currency": "EUR"}},
        headers={"X-Auth-Token": token(client, world, "master")},
    )
    euros = client.simulate_post(
        path(world, "other_reseller", "yandex_money_config"),
        json={"data": YANDEX},
        headers={"X-Auth-Token": token(client, world, "other_reseller")},
    )
    assert euros.status_code == 400 and "enabled" in euros.json["data"]


def test_the_payment_forms_carry_the_account_the_amount_and_the_hook(api):
    from bookkeeper.services.payments.gateway_settings import save_gateway_settings

    client, world, _ = api
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    save_gateway_settings(
        world.store,
        reseller,
        "paypal_config",
        {"enabled": True, "receiver_email": "pay@volna.example", "sandbox": True, "max_amount": "1000.00"},
        0,
    )
    save_gateway_settings(
        world.store,
        reseller,
        "yandex_money_config",
        {**YANDEX, "shop_id": "5432", "scid": "777", "shop_password": "shop-password-1"},
        0,
    )
    headers = {"X-Auth-Token": token(client, world, "customer_two")}
    form = client.simulate_get(
        f"/v2/accounts/{customer}/paypal/payment", params={"amount": "250.50"}, headers=headers
    ).json["data"]["paypal"]
    assert form["action"] == "https://www.sandbox.paypal.com/cgi-bin/webscr"
    assert {key: form["fields"][key] for key in ("business", "amount", "currency_code", "custom", "notify_url")} == {
        "business": "pay@volna.example",
        "amount": "250.50",
        "currency_code": "RUB",
        "custom": customer,
        "notify_url": f"http://127.0.0.1:8000/hooks/paypal/{reseller}",
    }
    yoomoney = client.simulate_get(
        f"/v2/accounts/{customer}/yandex_money/payment", params={"amount": "100"}, headers=headers
    ).json["data"]
    assert f"label={customer}" in yoomoney["wallet"]["url"] and "sum=100.00" in yoomoney["wallet"]["url"]
    assert yoomoney["shop"]["fields"]["customerNumber"] == customer
    for amount, rule in (("2000.00", "limits"), ("1.001", "type"), (None, "required")):
        refused = client.simulate_get(
            f"/v2/accounts/{customer}/paypal/payment", params={"amount": amount} if amount else {}, headers=headers
        )
        assert refused.status_code == 400 and rule in refused.json["data"]["amount"]


def test_no_payment_form_where_the_reseller_has_no_such_gateway(api):
    client, world, _ = api
    customer = world.ids["other_customer"]
    answer = client.simulate_get(
        f"/v2/accounts/{customer}/yandex_money/payment",
        params={"amount": "100"},
        headers={"X-Auth-Token": token(client, world, "other_customer")},
    )
    assert answer.status_code == 404 and "yandex_money" in answer.json["data"]
