"""Hypothesis throws bodies at every payment hook through the WSGI app, on the embedded store:
forms with any fields and values (repeated, unknown, in odd charsets, with or without a valid
signature), JSON, deep nesting, raw bytes. Whatever comes, the answer is never a 5xx and no
account is credited or debited.

PayPal's verification answers VERIFIED to every body here, and half the YooMoney and Braintree
bodies are signed with the reseller's secrets, so the bodies reach the parsers behind the
signatures too. None names an account this reseller bills, so none is genuine money."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from urllib.parse import urlencode

import pytest
from braintree.util.crypto import Crypto
from falcon import testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.braintree_gateway import braintree_factory
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.gateways import paypal, yandex_money
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.gateway_payments import HookPorts
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from bookkeeper.services.payments.hook_attempts import RefusalBudget
from testkit.fixtures.api_world import MSK, ApiWorld
from webhooks.app import create_app

pytestmark = pytest.mark.integration
SECRET, SHOP_PASSWORD = "wallet-secret-0123", "shop-password-4567"
BRAINTREE = {"merchant_id": "volna_merchant", "public_key": "volna_public", "private_key": "volna_private_key"}
MONEY_OUTCOMES = {"credited", "debited"}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class VerifiesEverything:
    """PayPal's postback as the most gullible listener could wish: every body is VERIFIED."""

    def verify(self, url: str, body: bytes) -> str:
        return "VERIFIED"


@pytest.fixture(scope="module")
def entrance(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("fuzz") / "hooks.sqlite3")
    world = ApiWorld(store).build()
    reseller = world.ids["reseller"]
    save_gateway_settings(store, reseller, "paypal_config", {"enabled": True, "receiver_id": "VOLNA0001"}, 0)
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
        },
        0,
    )
    save_gateway_settings(
        store, reseller, "braintree_config", {"enabled": True, "environment": "sandbox", **BRAINTREE}, 0
    )
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    ports = HookPorts(
        BillingPorts(store, clock, world.world.design_docs),
        VerifiesEverything(),
        card_gateways=braintree_factory("http://127.0.0.1:9"),  # parsing a webhook asks nobody
        refusal_budget=RefusalBudget(per_source_per_minute=10**9),
    )  # every delivery is recorded
    yield testing.TestClient(create_app(ports)), world
    for name in ("customer", "customer_two", "other_customer"):
        assert LedgerBook(store, world.world.design_docs).balance(world.ids[name], (2026, 11), 0) == 0
    store.close()


FIELD_NAMES = sorted(
    {
        "custom",
        "txn_id",
        "mc_gross",
        "mc_currency",
        "payment_status",
        "receiver_id",
        "receiver_email",
        "test_ipn",
        "parent_txn_id",
        "charset",
        "bt_signature",
        "bt_payload",
        "md5",
        "sha1_hash",
        *yandex_money.WALLET_SIGNED,
        *yandex_money.SHOP_SIGNED,
        "label",
        "unaccepted",
        "test_notification",
        "withdraw_amount",
    }
)
ODD_VALUES = [
    "",
    "0",
    "-0",
    "1e5",
    "NaN",
    "Infinity",
    "-250.00",
    "250.00",
    "250.001",
    "9" * 40,
    "0.0001",
    "RUB",
    "USD",
    "643",
    "10643",
    "Completed",
    "Refunded",
    "Reversed",
    "Canceled_Reversal",
    "VOLNA0001",
    "p2p-incoming",
    "card-incoming",
    "false",
    "true",
    "checkOrder",
    "paymentAviso",
    "5432",
    "1",
    "\x00",
    "é",
    "💸",
    "%",
    "%zz",
    "&",
    "=",
    "+",
    "a" * 300,
    "utf-8",
    "windows-1252",
    "punycode",
    "idna",
    "utf-16",
    "utf-7",
    "rot13",
    "base64",
    "no-such-charset",
    "pub1|a|b",
    "PGE+\u00e9",
]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
value = st.one_of(text, st.sampled_from(ODD_VALUES), st.builds(lambda: uuid.uuid4().hex))
key = st.one_of(st.sampled_from(FIELD_NAMES), text)
pairs = st.lists(st.tuples(key, value), max_size=25)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)
other_bodies = st.one_of(
    st.binary(max_size=600),
    json_value.map(lambda data: json.dumps(data).encode()),
    st.integers(min_value=1, max_value=3_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=3_000).map(lambda depth: (b"a[" * depth) + b"=1"),
    st.integers(min_value=90, max_value=400).map(lambda count: "&".join(f"f{n}=1" for n in range(count)).encode()),
)


def not_ours(world) -> st.SearchStrategy[str]:
    """Account ids a notification may name, none of them billed by this reseller."""
    return st.sampled_from([world.ids["customer"], world.ids["other_customer"], uuid.uuid4().hex, "garbage"])


def form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


def assert_no_money_and_no_crash(answer) -> None:
    assert answer.status_code < 500, answer.text[:500]
    if answer.headers.get("content-type", "").startswith("application/json"):
        assert answer.json["outcome"] not in MONEY_OUTCOMES, answer.json


def post(client, path: str, body: bytes):
    return client.simulate_post(path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


@FUZZ
@given(data=st.data())
def test_paypal_ipn_hook_survives_any_body(entrance, data):
    client, world = entrance
    fields = data.draw(pairs) + [("custom", data.draw(not_ours(world)))] * data.draw(st.integers(0, 1))
    body = data.draw(st.one_of(st.just(form(fields)), other_bodies))
    assert_no_money_and_no_crash(post(client, f"/hooks/paypal/{world.ids['reseller']}", body))
    assert paypal.ipn_charset(body)  # the charset sniffing itself never fails


@FUZZ
@given(data=st.data())
def test_yoomoney_wallet_hook_survives_any_body(entrance, data):
    client, world = entrance
    fields = dict(data.draw(pairs)) | {"label": data.draw(not_ours(world))}
    if data.draw(st.booleans()):
        fields["sha1_hash"] = yandex_money.wallet_signature(fields, SECRET)
    body = data.draw(st.one_of(st.just(form(list(fields.items()))), other_bodies))
    assert_no_money_and_no_crash(post(client, f"/hooks/yandex_money/{world.ids['reseller']}/notification", body))


@FUZZ
@given(data=st.data(), route=st.sampled_from(["check", "paymentaviso"]))
def test_yoomoney_shop_hooks_survive_any_body(entrance, data, route):
    client, world = entrance
    fields = dict(data.draw(pairs)) | {"customerNumber": data.draw(not_ours(world))}
    if data.draw(st.booleans()):
        fields["md5"] = yandex_money.shop_signature(fields, SHOP_PASSWORD)
    body = data.draw(st.one_of(st.just(form(list(fields.items()))), other_bodies))
    answer = post(client, f"/hooks/yandex_money/{world.ids['reseller']}/{route}", body)
    assert answer.status_code < 500, answer.text[:500]
    assert answer.status_code == 400 or 'code="0"' not in answer.text or route == "check"  # never a paid aviso


SIGNATURES = st.one_of(
    text,
    st.sampled_from(
        [
            "pub1|a|b",
            "volna_public|zz",
            "volna_public|",
            "|",
            "&",
            "a|b&c|d|e",
            f"volna_public|{'0' * 40}",
            "volna_public|ab\u00e9",
        ]
    ),
)
XML = st.one_of(
    text,
    st.sampled_from(
        [
            "<notification><kind>dispute_opened</kind></notification>",
            "<notification>",
            "<a>" * 2_000,
            "<?xml?>",
            f"<notification><kind>dispute_opened</kind><subject><dispute><id>{uuid.uuid4().hex}</id></dispute>"
            "</subject></notification>",
        ]
    ),
)
PAYLOADS = st.one_of(text, XML.map(lambda xml: base64.encodebytes(xml.encode()).decode()))


@FUZZ
@given(data=st.data())
def test_braintree_webhook_hook_survives_any_body(entrance, data):
    client, world = entrance
    payload = data.draw(PAYLOADS)
    if data.draw(st.booleans()):  # signed with the reseller's keys: what the SDK makes of the payload is fuzzed too
        signature = f"{BRAINTREE['public_key']}|{Crypto.sha1_hmac_hash(BRAINTREE['private_key'], payload.encode())}"
    else:
        signature = data.draw(SIGNATURES)
    fields = data.draw(pairs) + [("bt_signature", signature), ("bt_payload", payload)]
    body = data.draw(st.one_of(st.just(form(data.draw(st.permutations(fields)))), other_bodies))
    assert_no_money_and_no_crash(post(client, f"/hooks/braintree/{world.ids['reseller']}", body))


def test_the_fuzzed_signatures_are_the_ones_the_hooks_accept():
    """Signed as above, a body passes each gateway's check, or the fuzz would never get past one."""
    fields = {"notification_type": "p2p-incoming", "label": "x"}
    assert yandex_money.wallet_signature_valid(
        {**fields, "sha1_hash": yandex_money.wallet_signature(fields, SECRET)}, SECRET
    )
    assert yandex_money.shop_signature_valid(
        {**fields, "md5": yandex_money.shop_signature(fields, SHOP_PASSWORD)}, SHOP_PASSWORD
    )
    payload = base64.encodebytes(b"<notification><kind>check</kind><subject></subject></notification>").decode()
    signature = f"{BRAINTREE['public_key']}|{Crypto.sha1_hmac_hash(BRAINTREE['private_key'], payload.encode())}"
    cards = braintree_factory("http://127.0.0.1:9")(GatewaySettings("braintree_config", BRAINTREE))
    assert cards.parse_notification(signature, payload).kind == "check"
