"""What the hooks keep of deliveries nobody vouched for, and bodies the gateways' parsers could
not read: on both stores, each is answered 4xx naming its field, moves no money, and is kept
small and only so often per sender, so that anyone can no longer grow the store."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from falcon import testing

from bookkeeper import come_back_later
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.ports import Conflict, StoreUnavailable, ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.payments.gateway_payments import HookPorts
from bookkeeper.services.payments.hook_attempts import (
    HOOKS_DB,
    MAX_UNVOUCHED_RAW_KEPT,
    UNVOUCHED_PER_SOURCE_PER_MINUTE,
    attempt_id,
)
from testkit.fixtures.api_world import MSK
from tests.integration.test_payment_hooks import balance, hook_client, post_form, shop, wallet
from webhooks.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def hooks(store):
    with hook_client(store) as client_world_paypal:
        yield client_world_paypal


def hook_records(world):
    rows = world.store.query_view(
        HOOKS_DB, "kazbill_hooks", "by_outcome", ViewQuery(reduce=False, include_docs=True)
    ).rows
    return [row.doc for row in rows]


def test_a_flood_of_large_unsigned_notifications_keeps_little_and_only_so_many_a_minute_per_sender(hooks):
    client, world, _ = hooks
    path = f"/hooks/yandex_money/{world.ids['reseller']}/notification"
    padding = {f"pad{n}": "x" * 1_200 for n in range(50)}  # about 60 KB, as in the issue
    answers = [
        client.simulate_post(
            path,
            body=urlencode({**wallet(world, operation_id=str(n)), "sha1_hash": "0" * 40, **padding}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            remote_addr="203.0.113.7",
        )
        for n in range(UNVOUCHED_PER_SOURCE_PER_MINUTE + 10)
    ]
    assert {(a.status_code, a.json["outcome"]) for a in answers} == {(400, "forged")}
    kept = hook_records(world)
    assert len(kept) == UNVOUCHED_PER_SOURCE_PER_MINUTE
    assert all(len(doc["raw"]) <= MAX_UNVOUCHED_RAW_KEPT and doc["fields"] == {} for doc in kept)
    assert sum(len(json.dumps(doc)) for doc in kept) < 60_000  # one of the bodies, where 30 used to be kept whole
    assert {doc["deliveries"][0]["source"] for doc in kept} == {"203.0.113.7"}
    other_sender = post_form(client, path, {**wallet(world, operation_id="x"), "sha1_hash": "0" * 40})
    assert other_sender.status_code == 400 and len(hook_records(world)) == UNVOUCHED_PER_SOURCE_PER_MINUTE + 1
    genuine = client.simulate_post(
        path,
        body=urlencode(wallet(world)).encode(),
        remote_addr="203.0.113.7",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert genuine.json["outcome"] == "credited"  # a signed one is always kept, and at length
    record = world.store.get(HOOKS_DB, attempt_id("yandex_money", urlencode(wallet(world)).encode()))
    assert record["fields"]["operation_id"] == "904035776918098009"
    assert balance(world, world.ids["customer_two"]) == 9_800_000


@pytest.mark.parametrize("route", ["check", "paymentaviso"])
def test_more_than_200_fields_to_a_shop_hook_is_400_naming_the_body_and_moves_nothing(hooks, route):
    client, world, _ = hooks
    body = "&".join(f"f{n}=1" for n in range(250)).encode()
    answer = client.simulate_post(
        f"/hooks/yandex_money/{world.ids['reseller']}/{route}",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400
    xml = ElementTree.fromstring(answer.content)
    assert xml.get("code") == "200" and xml.get("message").startswith("body:")
    action = "checkOrder" if route == "check" else "paymentAviso"
    assert world.store.get(HOOKS_DB, attempt_id("yandex_money", body))["field"] == "body"
    assert xml.tag == f"{action}Response" and balance(world, world.ids["customer_two"]) == 0


def test_a_verified_ipn_in_a_charset_that_cannot_read_it_is_refused_and_recorded(hooks):
    client, world, paypal = hooks
    # punycode is a codec Python has, and it cannot read a form: a UnicodeError, not a UnicodeDecodeError
    body = paypal.sent(urlencode({"charset": "punycode", "custom": world.ids["customer_two"]}).encode())
    answer = client.simulate_post(f"/hooks/paypal/{world.ids['reseller']}", body=body)
    assert (answer.status_code, answer.json["outcome"]) == (400, "refused") and "body" in answer.json["data"]
    assert world.store.get(HOOKS_DB, attempt_id("paypal", body))["outcome"] == "refused"
    assert balance(world, world.ids["customer_two"]) == 0


class ConflictingHookRecords:
    """The store, except that every write of a hook record loses its race."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def put(self, db, doc):
        if db == HOOKS_DB:
            raise Conflict(db, doc["_id"])
        return self.store.put(db, doc)


def test_a_record_that_keeps_losing_its_race_is_a_503_to_ask_again_not_a_crash(hooks, monkeypatch):
    client, world, _ = hooks
    monkeypatch.setattr("bookkeeper.services.payments.hook_attempts.time.sleep", lambda seconds: None)
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    crowded = HookPorts(BillingPorts(ConflictingHookRecords(world.store), clock, world.world.design_docs), None)
    answer = testing.TestClient(create_app(crowded)).simulate_post(
        f"/hooks/yandex_money/{world.ids['reseller']}/notification", body=urlencode(wallet(world)).encode()
    )
    assert (answer.status_code, answer.json["outcome"]) == (503, "unavailable")
    assert int(answer.headers["Retry-After"]) > 0  # the same "come back later" as the API's
    assert HOOKS_DB in answer.json["message"]
    assert balance(world, world.ids["customer_two"]) == 9_800_000  # credited; the gateway's resend is a duplicate
    again = client.simulate_post(
        f"/hooks/yandex_money/{world.ids['reseller']}/notification", body=urlencode(wallet(world)).encode()
    )
    assert again.json["outcome"] == "duplicate" and balance(world, world.ids["customer_two"]) == 9_800_000


def test_a_braintree_signature_of_three_parts_or_a_non_ascii_payload_is_400_and_recorded(braintree):
    _, hook_api, world, _ = braintree
    path = f"/hooks/braintree/{world.ids['other_reseller']}"
    for body, field in [
        (urlencode({"bt_signature": "pub1|a|b", "bt_payload": "PGE+"}).encode(), "bt_signature"),
        (urlencode({"bt_signature": "pub1|ab12", "bt_payload": "PGE+\u00e9"}).encode(), "bt_payload"),
    ]:
        answer = hook_api.simulate_post(path, body=body)
        assert (answer.status_code, answer.json["outcome"]) == (400, "refused") and field in answer.json["data"]
        assert world.store.get(HOOKS_DB, attempt_id("braintree", body))["field"] == field
    assert balance(world, world.ids["other_customer"]) == 0


class UnreachableStore:
    """The store, gone (CouchDB down, the file locked past its timeout) for every read and write."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        if name in ("get", "get_many", "put", "bulk_put", "query_view"):

            def unavailable(*args, **kwargs):
                raise StoreUnavailable("http://couchdb:5984", "connection refused")

            return unavailable
        return getattr(self.store, name)


@pytest.mark.parametrize("route", ["check", "paymentaviso"])
def test_a_shop_hook_meeting_an_unreachable_store_is_asked_again_in_the_protocols_own_xml(hooks, route):
    """The same "come back later" as the API's (bookkeeper/come_back_later.py): 503 and its
    Retry-After, the body still the XML YooMoney reads, and nothing credited."""
    _, world, _ = hooks
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    gone = HookPorts(BillingPorts(UnreachableStore(world.store), clock, world.world.design_docs), None)
    action = "checkOrder" if route == "check" else "paymentAviso"
    answer = post_form(
        testing.TestClient(create_app(gone)),
        f"/hooks/yandex_money/{world.ids['reseller']}/{route}",
        shop(world, action),
    )
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) == come_back_later.RETRY_AFTER_S
    xml = ElementTree.fromstring(answer.content)
    assert xml.tag == f"{action}Response" and xml.get("code") == "200"  # YooMoney's "ask again"
    assert balance(world, world.ids["customer_two"]) == 0
