"""The payment hooks on both stores, with PayPal's verification endpoint played by a local HTTP
server: a genuine notification is credited once; a forged, replayed, tampered or misdirected one
moves nothing, gets a clear answer, and is kept for the operator."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.paypal_ipn import HttpIpnVerifier
from bookkeeper.domain.gateways import yandex_money
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.gateway_payments import HookPorts
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from bookkeeper.services.payments.hook_attempts import HOOKS_DB, attempt_id
from testkit.fixtures.api_world import MSK, ApiWorld
from testkit.support.paypal_verifier import PayPalVerifier
from webhooks.app import create_app

pytestmark = pytest.mark.integration
SECRET, SHOP_PASSWORD = "wallet-secret-0123", "shop-password-4567"


@pytest.fixture
def hooks(store):
    with hook_client(store) as client_world_paypal:
        yield client_world_paypal


@contextmanager
def hook_client(store):
    """(the hooks' test client, the account tree with its gateways set up, PayPal's verifier)."""
    world = ApiWorld(store).build()
    reseller = world.ids["reseller"]
    save_gateway_settings(
        store,
        reseller,
        "paypal_config",
        {"enabled": True, "receiver_id": "VOLNA0001", "receiver_email": "pay@volna.example"},
        0,
    )
    save_gateway_settings(
        store,
        reseller,
        "yandex_money_config",
        {
            "enabled": True,
            "wallet": "41001000040",
            "notification_secret": SECRET,
            "shop_id": "5432",
            "scid": "777",
            "shop_password": SHOP_PASSWORD,
            "min_amount": "10.00",
            "max_amount": "15000.00",
        },
        0,
    )
    with PayPalVerifier() as paypal:
        clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
        ports = HookPorts(
            BillingPorts(store, clock, world.world.design_docs), HttpIpnVerifier(timeout_s=5), (paypal.url, paypal.url)
        )
        yield testing.TestClient(create_app(ports)), world, paypal


def balance(world, account_id):
    return LedgerBook(world.store, world.world.design_docs).balance(account_id, (2026, 11), 0)


def attempt(world, gateway, body):
    return world.store.get(HOOKS_DB, attempt_id(gateway, body))


def ipn(world, **overrides) -> bytes:
    fields = {
        "mc_gross": "250.00",
        "protection_eligibility": "Eligible",
        "payer_id": "LPLWNMTBWMFAY",
        "payment_date": "04:01:02 Nov 10, 2026 PST",
        "payment_status": "Completed",
        "charset": "UTF-8",
        "first_name": "Анна",
        "mc_fee": "9.05",
        "notify_version": "3.9",
        "custom": world.ids["customer_two"],
        "payer_status": "verified",
        "business": "pay@volna.example",
        "quantity": "1",
        "receiver_email": "pay@volna.example",
        "receiver_id": "VOLNA0001",
        "txn_id": "61E67681CH3238416",
        "txn_type": "web_accept",
        "item_name": "Balance top-up",
        "mc_currency": "RUB",
        "payment_type": "instant",
    }
    fields.update(overrides)
    return urlencode({key: value for key, value in fields.items() if value is not None}).encode()


def post_ipn(client, world, body, reseller=None):
    return client.simulate_post(
        f"/hooks/paypal/{reseller or world.ids['reseller']}",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


# ---------------------------------------------------------------- PayPal


def test_a_paypal_payment_is_credited_once_and_every_delivery_is_recorded(hooks):
    client, world, paypal = hooks
    customer = world.ids["customer_two"]
    body = paypal.sent(ipn(world))
    first = post_ipn(client, world, body)
    assert (first.status_code, first.json["outcome"]) == (200, "credited")
    assert paypal.postbacks == [b"cmd=_notify-validate&" + body]  # the original bytes, behind the prefix
    again = [post_ipn(client, world, body) for _ in range(3)]  # PayPal resends until it hears 200
    assert {(r.status_code, r.json["outcome"]) for r in again} == {(200, "duplicate")}
    assert balance(world, customer) == 2_500_000
    entry = world.store.get(account_db(customer) + "-202611", "202611-kazbill-paypal-61E67681CH3238416")
    assert (entry["pvt_ledger_type"], entry["amount"], entry["source"]) == (
        "credit",
        2_500_000,
        {"service": "payments", "id": "61E67681CH3238416"},
    )  # Kazoo's source name
    assert entry["metadata"]["kazbill"]["reason"] == "paypal"
    record = attempt(world, "paypal", body)
    assert (record["outcome"], record["count"], record["account_id"], record["external_id"]) == (
        "credited",
        4,
        customer,
        "61E67681CH3238416",
    )
    assert [d["outcome"] for d in record["deliveries"]] == ["credited", "duplicate", "duplicate", "duplicate"]
    assert record["fields"]["first_name"] == "Анна"


def test_forged_and_tampered_ipns_credit_nothing(hooks):
    client, world, paypal = hooks
    genuine = paypal.sent(ipn(world))
    forged = ipn(world, txn_id="FORGED00001")  # PayPal never sent it: its postback answers INVALID
    tampered = genuine.replace(b"mc_gross=250.00", b"mc_gross=25000.00")
    for body in (forged, tampered):
        answer = post_ipn(client, world, body)
        assert (answer.status_code, answer.json["outcome"]) == (400, "forged")
        assert "INVALID" in answer.json["message"] and "body" in answer.json["data"]
        assert attempt(world, "paypal", body)["outcome"] == "forged"
    assert balance(world, world.ids["customer_two"]) == 0


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"receiver_id": "THIEF0001"}, "receiver_id", "another PayPal account"),
        ({"mc_currency": "USD"}, "mc_currency", "not the reseller's currency"),
        ({"custom": "0" * 32}, "custom", "unknown account"),
        ({"custom": "garbage"}, "custom", "not a Kazoo account id"),
        ({"custom": "other_customer"}, "custom", "is not billed by reseller"),
        ({"custom": "customer"}, "custom", "is not billed by reseller"),  # billed by the sub-reseller in between
        ({"mc_gross": "250.001"}, "mc_gross", "not an amount"),
    ],
)
def test_verified_ipns_for_another_receiver_currency_or_account_are_refused(hooks, overrides, field, message):
    client, world, paypal = hooks
    if overrides.get("custom") in world.ids:
        overrides = {**overrides, "custom": world.ids[overrides["custom"]]}
    body = paypal.sent(ipn(world, **overrides))
    answer = post_ipn(client, world, body)
    assert (answer.status_code, answer.json["outcome"]) == (400, "refused")
    assert field in answer.json["data"] and message in answer.json["message"]
    assert attempt(world, "paypal", body)["field"] == field
    for name in ("customer_two", "customer", "other_customer"):
        assert balance(world, world.ids[name]) == 0


def test_a_disabled_gateway_or_unknown_reseller_refuses_without_asking_paypal(hooks):
    client, world, paypal = hooks
    save_gateway_settings(world.store, world.ids["reseller"], "paypal_config", {"enabled": False}, 0)
    body = paypal.sent(ipn(world))
    answer = post_ipn(client, world, body)
    assert (answer.status_code, answer.json["outcome"]) == (403, "refused")
    assert "paypal_config.enabled" in answer.json["data"]
    unknown = post_ipn(client, world, body, reseller="f" * 32)
    assert unknown.status_code == 404 and "reseller_id" in unknown.json["data"]
    customer_as_reseller = post_ipn(client, world, body, reseller=world.ids["customer_two"])
    assert customer_as_reseller.status_code == 404
    assert paypal.postbacks == [] and balance(world, world.ids["customer_two"]) == 0


def test_refunds_reversals_and_cancelled_reversals_post_under_their_own_ids(hooks):
    client, world, paypal = hooks
    customer = world.ids["customer_two"]
    bodies = [
        ipn(world),
        ipn(
            world, payment_status="Refunded", mc_gross="-50.00", txn_id="REFUND0001", parent_txn_id="61E67681CH3238416"
        ),
        ipn(
            world, payment_status="Reversed", mc_gross="-200.00", txn_id="REVERSE001", parent_txn_id="61E67681CH3238416"
        ),
        ipn(
            world,
            payment_status="Canceled_Reversal",
            mc_gross="200.00",
            txn_id="CANCEL0001",
            parent_txn_id="61E67681CH3238416",
        ),
        ipn(world, payment_status="Pending", txn_id="PENDING001"),
    ]
    outcomes = [post_ipn(client, world, paypal.sent(body)).json["outcome"] for body in bodies + bodies]
    assert outcomes == [
        "credited",
        "debited",
        "debited",
        "credited",
        "ignored",
        "duplicate",
        "duplicate",
        "duplicate",
        "duplicate",
        "ignored",
    ]
    assert balance(world, customer) == 2_500_000 - 500_000 - 2_000_000 + 2_000_000


def test_while_paypal_cannot_be_asked_nothing_is_posted_and_its_resend_credits(hooks):
    client, world, paypal = hooks
    body = paypal.sent(ipn(world))
    paypal.down = True
    answer = post_ipn(client, world, body)
    assert (answer.status_code, answer.json["outcome"]) == (503, "unverified")
    assert balance(world, world.ids["customer_two"]) == 0
    paypal.down = False
    assert post_ipn(client, world, body).json["outcome"] == "credited"
    assert [d["outcome"] for d in attempt(world, "paypal", body)["deliveries"]] == ["unverified", "credited"]


def test_oversized_and_malformed_bodies_are_refused_and_recorded(hooks):
    client, world, paypal = hooks
    huge = b"a=" + b"x" * 70_000
    answer = post_ipn(client, world, huge)
    assert answer.status_code == 413
    assert attempt(world, "paypal", huge[: 64 * 1024 + 1])["field"] == "body"
    twice = paypal.sent(ipn(world) + b"&custom=" + world.ids["customer"].encode())
    answer = post_ipn(client, world, twice)
    assert (answer.status_code, answer.json["outcome"]) == (400, "refused") and "custom" in answer.json["data"]
    assert balance(world, world.ids["customer_two"]) == 0


# ---------------------------------------------------------------- YooMoney wallet


def wallet(world, **overrides) -> dict[str, str]:
    fields = {
        "notification_type": "card-incoming",
        "operation_id": "904035776918098009",
        "amount": "980.00",
        "withdraw_amount": "1000.00",
        "currency": "643",
        "datetime": "2026-11-10T09:00:00Z",
        "sender": "",
        "codepro": "false",
        "label": world.ids["customer_two"],
        "unaccepted": "false",
    }
    fields.update(overrides)
    fields["sha1_hash"] = yandex_money.wallet_signature(fields, SECRET)
    return fields


def post_form(client, path, fields):
    return client.simulate_post(
        path, body=urlencode(fields).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_a_wallet_notification_is_credited_once_for_its_signed_amount(hooks):
    client, world, _ = hooks
    path = f"/hooks/yandex_money/{world.ids['reseller']}/notification"
    fields = wallet(world)
    answers = [post_form(client, path, fields) for _ in range(3)]
    assert [a.json["outcome"] for a in answers] == ["credited", "duplicate", "duplicate"]
    assert balance(world, world.ids["customer_two"]) == 9_800_000  # amount, not withdraw_amount


def test_forged_or_unacceptable_wallet_notifications_credit_nothing(hooks):
    client, world, _ = hooks
    path = f"/hooks/yandex_money/{world.ids['reseller']}/notification"
    forged = {**wallet(world), "amount": "98000.00"}  # changed after signing
    wrong_secret = {
        **wallet(world, operation_id="2"),
        "sha1_hash": yandex_money.wallet_signature(wallet(world), "guess"),
    }
    for fields, status, outcome, field in [
        (forged, 400, "forged", "sha1_hash"),
        (wrong_secret, 400, "forged", "sha1_hash"),
        (wallet(world, codepro="true", operation_id="3"), 400, "refused", "codepro"),
        (wallet(world, label=world.ids["other_customer"], operation_id="4"), 400, "refused", "label"),
        (wallet(world, unaccepted="true", operation_id="5"), 200, "ignored", None),
    ]:
        answer = post_form(client, path, fields)
        assert (answer.status_code, answer.json["outcome"]) == (status, outcome)
        if field:
            assert field in answer.json["data"]
    assert balance(world, world.ids["customer_two"]) == balance(world, world.ids["other_customer"]) == 0


# ---------------------------------------------------------------- YooMoney shop protocol


def shop(world, action, **overrides) -> dict[str, str]:
    fields = {
        "requestDatetime": "2026-11-10T12:00:00.000+03:00",
        "action": action,
        "shopId": "5432",
        "shopArticleId": "1",
        "invoiceId": "2000000123",
        "customerNumber": world.ids["customer_two"],
        "orderSumAmount": "1500.00",
        "orderSumCurrencyPaycash": "643",
        "orderSumBankPaycash": "1001",
        "shopSumAmount": "1447.50",
        "paymentType": "AC",
    }
    fields.update(overrides)
    fields["md5"] = yandex_money.shop_signature(fields, SHOP_PASSWORD)
    return fields


def xml_answer(response):
    assert response.status_code == 200 and response.headers["content-type"] == "application/xml"
    return ElementTree.fromstring(response.content)


def test_check_order_then_payment_aviso_credit_the_invoice_once(hooks):
    client, world, _ = hooks
    base = f"/hooks/yandex_money/{world.ids['reseller']}"
    check = xml_answer(post_form(client, f"{base}/check", shop(world, "checkOrder")))
    assert (check.tag, check.get("code"), check.get("invoiceId"), check.get("shopId")) == (
        "checkOrderResponse",
        "0",
        "2000000123",
        "5432",
    )
    assert balance(world, world.ids["customer_two"]) == 0  # a check moves nothing
    avisos = [xml_answer(post_form(client, f"{base}/paymentaviso", shop(world, "paymentAviso"))) for _ in range(2)]
    assert [(a.tag, a.get("code")) for a in avisos] == [("paymentAvisoResponse", "0")] * 2
    assert balance(world, world.ids["customer_two"]) == 15_000_000


@pytest.mark.parametrize(
    "route, fields, code",
    [
        ("check", {"orderSumAmount": "20000.00"}, "100"),  # above the reseller's maximum
        ("check", {"shopId": "1111"}, "100"),
        ("check", {"customerNumber": "other_customer"}, "100"),
        ("paymentaviso", {"orderSumCurrencyPaycash": "840"}, "200"),
    ],
)
def test_shop_requests_out_of_bounds_are_refused_in_the_protocols_codes(hooks, route, fields, code):
    client, world, _ = hooks
    if fields.get("customerNumber") in world.ids:
        fields = {**fields, "customerNumber": world.ids[fields["customerNumber"]]}
    action = "checkOrder" if route == "check" else "paymentAviso"
    answer = xml_answer(
        post_form(client, f"/hooks/yandex_money/{world.ids['reseller']}/{route}", shop(world, action, **fields))
    )
    assert answer.get("code") == code and answer.get("message")
    assert balance(world, world.ids["customer_two"]) == 0


def test_a_shop_request_with_a_bad_md5_is_an_authorisation_error(hooks):
    client, world, _ = hooks
    fields = {**shop(world, "paymentAviso"), "orderSumAmount": "150000.00"}
    answer = xml_answer(post_form(client, f"/hooks/yandex_money/{world.ids['reseller']}/paymentaviso", fields))
    assert answer.get("code") == "1"
    assert balance(world, world.ids["customer_two"]) == 0
