"""Cards, top-ups and Braintree's webhooks, on both stores, against a local Braintree gateway
(real HTTP and the SDK's XML) reached through a custom braintree Environment; webhooks are built
with the SDK's own sample-notification helper and the reseller's keys."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bookkeeper.adapters.braintree_gateway import BraintreeCards
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.hook_attempts import HOOKS_DB, attempt_id
from tests.integration.conftest import BRAINTREE_KEYS as KEYS
from tests.unit.crossbar_api.test_api import token

pytestmark = pytest.mark.integration


def balance(world, name):
    return LedgerBook(world.store, world.world.design_docs).balance(world.ids[name], (2026, 11), 0)


def customer_path(world, rest):
    return f"/v2/accounts/{world.ids['other_customer']}/braintree/{rest}"


def test_a_customer_saves_cards_and_tops_up_once_per_key(braintree):
    api, _, world, fake = braintree
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    assert (
        api.simulate_get(customer_path(world, "client_token"), headers=me).json["data"]["client_token"]
        == f"fake-client-token-{world.ids['other_customer']}"
    )
    visa = api.simulate_put(
        customer_path(world, "cards"), json={"data": {"payment_method_nonce": "fake-valid-visa-nonce"}}, headers=me
    )
    assert visa.status_code == 201 and visa.json["data"]["last_four"] == "1111"
    master = api.simulate_put(
        customer_path(world, "cards"),
        headers=me,
        json={"data": {"payment_method_nonce": "fake-valid-mastercard-nonce", "make_default": True}},
    ).json["data"]
    cards = api.simulate_get(customer_path(world, "cards"), headers=me).json["data"]
    assert [(c["card_type"], c["default"]) for c in cards] == [("Visa", False), ("MasterCard", True)]
    topups = [
        api.simulate_put(
            customer_path(world, "credits"),
            json={"data": {"amount": 100}},
            headers={**me, "Idempotency-Key": "topup-1"},
        )
        for _ in range(3)
    ]
    assert [t.status_code for t in topups] == [201, 200, 200]
    assert {t.json["data"]["transaction_id"] for t in topups} == {fake.sales[0]["id"]}
    assert topups[0].json["data"]["card"] == master["id"] and len(fake.sales) == 1
    assert fake.sales[0]["amount"] == "100.00" and balance(world, "other_customer") == 1_000_000
    api.simulate_post(
        customer_path(world, f"cards/{visa.json['data']['id']}"), json={"data": {"default": True}}, headers=me
    )
    assert api.simulate_delete(customer_path(world, f"cards/{master['id']}"), headers=me).status_code == 200
    assert [c["last_four"] for c in api.simulate_get(customer_path(world, "cards"), headers=me).json["data"]] == [
        "1111"
    ]


def test_a_declined_card_credits_nothing_and_says_why(braintree):
    api, _, world, fake = braintree
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(
        customer_path(world, "cards"),
        json={"data": {"payment_method_nonce": "fake-processor-declined-visa-nonce"}},
        headers=me,
    )
    for _ in range(2):
        declined = api.simulate_put(
            customer_path(world, "credits"), json={"data": {"amount": 50}}, headers={**me, "Idempotency-Key": "topup-d"}
        )
        assert declined.status_code == 402 and declined.json["data"]["card"]["declined"]["message"] == "Do Not Honor"
    assert len(fake.sales) == 1 and balance(world, "other_customer") == 0


@pytest.mark.parametrize(
    "who, rest, method, body, headers, status, field",
    [
        (
            "other_customer",
            "credits",
            "PUT",
            {"amount": 1000},
            {"Idempotency-Key": "k"},
            400,
            "amount",
        ),  # above maximum
        ("other_customer", "credits", "PUT", {"amount": 1}, {"Idempotency-Key": "k"}, 400, "amount"),  # below minimum
        ("other_customer", "credits", "PUT", {"amount": "12"}, {"Idempotency-Key": "k"}, 400, "amount"),
        ("other_customer", "credits", "PUT", {"amount": 10}, {}, 400, "Idempotency-Key"),
        ("other_customer", "credits", "PUT", {"amount": 10}, {"Idempotency-Key": "k"}, 400, "card"),  # no card saved
        ("other_customer", "cards/card999", "DELETE", None, {}, 404, "card"),
        ("other_customer", "cards", "PUT", {"payment_method_nonce": "stolen"}, {}, 400, "card"),
        ("customer_two", "cards", "GET", None, {}, 404, "braintree"),  # its reseller takes no cards
    ],
)
def test_bad_card_requests_are_refused_with_the_field_and_charge_nothing(
    braintree, who, rest, method, body, headers, status, field
):
    api, _, world, fake = braintree
    path = f"/v2/accounts/{world.ids[who]}/braintree/{rest}"
    answer = api.simulate_request(
        method,
        path,
        json={"data": body} if body is not None else None,
        headers={"X-Auth-Token": token(api, world, who), **headers},
    )
    assert answer.status_code == status and field in answer.json["data"], answer.json
    assert fake.sales == []


def test_a_card_of_another_account_cannot_be_charged_or_deleted(braintree):
    api, _, world, fake = braintree
    other = BraintreeCards(GatewaySettings("braintree_config", KEYS), fake.url)
    other.ensure_customer("b" * 32, "Someone")
    foreign = other.add_card("b" * 32, "fake-valid-visa-nonce", True)
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(
        customer_path(world, "cards"), json={"data": {"payment_method_nonce": "fake-valid-visa-nonce"}}, headers=me
    )
    charged = api.simulate_put(
        customer_path(world, "credits"),
        json={"data": {"amount": 10, "card": foreign.token}},
        headers={**me, "Idempotency-Key": "steal"},
    )
    deleted = api.simulate_delete(customer_path(world, f"cards/{foreign.token}"), headers=me)
    assert (charged.status_code, deleted.status_code) == (404, 404)
    assert fake.sales == [] and foreign.token in fake.cards


def test_while_braintree_is_down_nothing_is_charged_and_the_key_stays_free(braintree):
    api, _, world, fake = braintree
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(
        customer_path(world, "cards"), json={"data": {"payment_method_nonce": "fake-valid-visa-nonce"}}, headers=me
    )
    fake.down = True
    down = api.simulate_put(
        customer_path(world, "credits"), json={"data": {"amount": 20}}, headers={**me, "Idempotency-Key": "later"}
    )
    assert down.status_code == 503 and balance(world, "other_customer") == 0
    fake.down = False
    assert (
        api.simulate_put(
            customer_path(world, "credits"), json={"data": {"amount": 20}}, headers={**me, "Idempotency-Key": "later"}
        ).status_code
        == 201
    )


def card_and_top_up(api, world, amount=100):
    """The customer saves a Visa and tops up `amount`: (its headers, the sale's transaction id)."""
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(
        customer_path(world, "cards"), json={"data": {"payment_method_nonce": "fake-valid-visa-nonce"}}, headers=me
    )
    sale = api.simulate_put(
        customer_path(world, "credits"), json={"data": {"amount": amount}}, headers={**me, "Idempotency-Key": "k1"}
    ).json["data"]["transaction_id"]
    return me, sale


def webhook(fake, kind, transaction_id, private_key=KEYS["private_key"]):
    gateway = BraintreeCards(GatewaySettings("braintree_config", {**KEYS, "private_key": private_key}), fake.url)
    sample = gateway.gateway.webhook_testing.sample_notification(kind, transaction_id)
    return urlencode({"bt_signature": sample["bt_signature"], "bt_payload": sample["bt_payload"].decode()}).encode()


def test_disputes_and_declined_settlements_move_money_once(braintree):
    api, hooks, world, fake = braintree
    me, paid = card_and_top_up(api, world)
    path = f"/hooks/braintree/{world.ids['other_reseller']}"
    opened = webhook(fake, "dispute_opened", paid)
    outcomes = [hooks.simulate_post(path, body=opened).json["outcome"] for _ in range(2)]
    assert outcomes == ["debited", "duplicate"] and balance(world, "other_customer") == 0
    assert hooks.simulate_post(path, body=webhook(fake, "dispute_won", paid)).json["outcome"] == "credited"
    assert balance(world, "other_customer") == 1_000_000
    assert (
        hooks.simulate_post(path, body=webhook(fake, "transaction_settlement_declined", paid)).json["outcome"]
        == "debited"
    )
    assert balance(world, "other_customer") == 0
    assert world.store.get(HOOKS_DB, attempt_id("braintree", opened))["count"] == 2


def test_forged_or_foreign_braintree_webhooks_move_nothing(braintree):
    _, hooks, world, fake = braintree
    path = f"/hooks/braintree/{world.ids['other_reseller']}"
    forged = hooks.simulate_post(path, body=webhook(fake, "dispute_opened", "bt000001", private_key="guessed_key_1"))
    assert (forged.status_code, forged.json["outcome"]) == (400, "forged") and "bt_signature" in forged.json["data"]
    foreign = hooks.simulate_post(path, body=webhook(fake, "dispute_opened", "not-ours"))
    assert (foreign.status_code, foreign.json["outcome"]) == (200, "ignored")
    missing = hooks.simulate_post(path, body=b"bt_signature=x")
    assert missing.status_code == 400 and "bt_payload" in missing.json["data"]
    assert balance(world, "other_customer") == 0


def test_a_reseller_refunds_part_of_a_top_up_once_and_never_more_than_was_paid(braintree):
    api, _, world, fake = braintree
    me, sale = card_and_top_up(api, world)
    boss = {"X-Auth-Token": token(api, world, "other_reseller")}
    path = customer_path(world, f"transactions/{sale}/refund")
    refunds = [
        api.simulate_put(path, json={"data": {"amount": 40}}, headers={**boss, "Idempotency-Key": "r1"})
        for _ in range(2)
    ]
    assert [r.status_code for r in refunds] == [201, 200] and len(fake.refunds) == 1
    assert balance(world, "other_customer") == 600_000
    too_much = api.simulate_put(path, json={"data": {"amount": 70}}, headers={**boss, "Idempotency-Key": "r2"})
    assert too_much.status_code == 400 and "amount" in too_much.json["data"]
    rest = api.simulate_put(path, json={"data": {}}, headers={**boss, "Idempotency-Key": "r3"})
    assert rest.status_code == 201 and rest.json["data"]["amount"] == 60
    assert balance(world, "other_customer") == 0 and [r["amount"] for r in fake.refunds] == ["40.00", "60.00"]
    own = api.simulate_put(path, json={"data": {}}, headers={**me, "Idempotency-Key": "r4"})
    unknown = api.simulate_put(
        customer_path(world, "transactions/nope/refund"), json={"data": {}}, headers={**boss, "Idempotency-Key": "r5"}
    )
    assert (own.status_code, unknown.status_code) == (403, 404)


def test_a_refund_that_fails_at_braintree_is_credited_back_once(braintree):
    api, hooks, world, fake = braintree
    me, sale = card_and_top_up(api, world)
    refund = api.simulate_put(
        customer_path(world, f"transactions/{sale}/refund"),
        json={"data": {}},
        headers={"X-Auth-Token": token(api, world, "other_reseller"), "Idempotency-Key": "r"},
    )
    assert balance(world, "other_customer") == 0
    path = f"/hooks/braintree/{world.ids['other_reseller']}"
    failed = webhook(fake, "refund_failed", refund.json["data"]["refund_id"])
    assert [hooks.simulate_post(path, body=failed).json["outcome"] for _ in range(2)] == ["credited", "duplicate"]
    assert balance(world, "other_customer") == 1_000_000
    # A refund_failed naming the sale itself (not a refund) moves nothing.
    assert hooks.simulate_post(path, body=webhook(fake, "refund_failed", sale)).json["outcome"] == "ignored"


def test_a_credit_cut_short_after_the_card_was_charged_is_finished_by_the_repeat_never_charged_twice(
    braintree, monkeypatch
):
    import bookkeeper.services.payments.card_payments as card_payments
    from bookkeeper.ports import StoreUnavailable
    from bookkeeper.services.payments.card_payments import CardPorts, top_up

    api, _, world, fake = braintree
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(
        customer_path(world, "cards"), json={"data": {"payment_method_nonce": "fake-valid-visa-nonce"}}, headers=me
    )
    ports = CardPorts(BillingPorts(world.store, world.clock, world.world.design_docs), world.cards)
    real = card_payments.apply_payment

    def store_gone(*args, **kwargs):
        raise StoreUnavailable("test-store", "it went away between the charge and the credit")

    monkeypatch.setattr(card_payments, "apply_payment", store_gone)
    with pytest.raises(StoreUnavailable):
        top_up(ports, world.ids["other_customer"], 200_000, "cut-short", by="test")
    assert len(fake.sales) == 1 and balance(world, "other_customer") == 0
    monkeypatch.setattr(card_payments, "apply_payment", real)
    record, first_time = top_up(ports, world.ids["other_customer"], 200_000, "cut-short", by="test")
    assert (record["state"], first_time, len(fake.sales)) == ("charged", False, 1) and record["entry_id"]
    assert balance(world, "other_customer") == 200_000
