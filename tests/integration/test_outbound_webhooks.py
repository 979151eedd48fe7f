"""Outbound webhooks, end to end on both stores: a reseller subscribes through the API, a
customer's payment and its block become signed deliveries to a real HTTP receiver on this
machine, which verifies every signature; a receiver that answers 500 gets the delivery again
after the backoff; the test button delivers at once; the delivery log shows every attempt; a
private address is refused unless allowed; bad bodies are 400 naming the field; nobody sees
another reseller's webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.webhook_poster import HttpWebhookPoster
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import gregorian_now
from bookkeeper.services.hooks_out.delivery import deliver_due
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from tests.unit.crossbar_api.test_api import token

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook receiver: answers the statuses it is given in turn (then 200), keeps what came."""

    def __init__(self):
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kazbill"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, secret: str) -> list[dict]:
        """Each delivery's JSON, once its signature checks out as a receiver checks it."""
        events = []
        for headers, body in self.received:
            parts = dict(part.split("=", 1) for part in headers["kazbill-signature"].split(","))
            expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(parts["v1"], expected), "a delivery whose signature does not verify"
            event = json.loads(body)
            assert headers["kazbill-event"] == event["type"]
            events.append(event)
        return events


@pytest.fixture
def hooked(store):
    world = ApiWorld(store).build()
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    poster = HttpWebhookPoster(allow_private=True, timeout_s=5)
    deps = ApiDeps(
        store=store,
        clock=clock,
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"webhook-test-secret-0123", 3600),
        webhook_poster=poster,
    )
    client = testing.TestClient(create_app(deps))
    receiver = Receiver()
    yield client, world, clock, poster, receiver
    receiver.server.shutdown()


def subscribe(client, world, receiver, events=None):
    body = {"url": receiver.url, **({"events": events} if events else {})}
    result = client.simulate_put(
        f"/v2/accounts/{world.ids['reseller']}/billing_webhooks",
        headers={"X-Auth-Token": token(client, world, "reseller")},
        json={"data": body},
    )
    assert result.status_code == 201, result.json
    return result.json["data"]


def test_a_payment_and_a_block_reach_the_resellers_receiver_signed_and_once(hooked):
    client, world, clock, poster, receiver = hooked
    hook = subscribe(client, world, receiver, ["payment.received", "account.blocked"])
    customer = world.ids["customer_two"]
    limits = world.store.get(account_db(customer), "limits")
    world.store.put(account_db(customer), {**limits, "pvt_allow_postpay": False, "pvt_max_postpay_amount": 0})
    onbill = world.store.get(account_db(world.ids["reseller"]), "onbill")
    world.store.put(account_db(world.ids["reseller"]), {**onbill, "blocking_enabled": True})
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    for key, direction, amount in (("pay-1", "credit", 250), ("fix-1", "debit", 400)):
        posted = client.simulate_put(
            f"/v2/accounts/{customer}/ledgers/{direction}",
            headers={**reseller, "Idempotency-Key": key},
            json={"data": {"amount": amount, "description": key}},
        )
        assert posted.status_code == 201, posted.json
    report = deliver_due(world.store, poster, gregorian_now(clock))
    assert report.delivered == 2 and report.failed == report.retrying == 0
    # In no promised order (two events of one moment); each says when it happened.
    events = {event["type"]: event for event in receiver.verified(hook["secret"])}
    assert sorted(events) == ["account.blocked", "payment.received"]
    payment = events["payment.received"]
    assert payment["account_id"] == customer and payment["data"]["amount"] == 2_500_000
    assert payment["reseller_id"] == world.ids["reseller"] and isinstance(payment["created"], int)
    assert deliver_due(world.store, poster, gregorian_now(clock)).ids == []  # nothing twice
    replay = client.simulate_put(  # the same payment again (its Idempotency-Key): no second event
        f"/v2/accounts/{customer}/ledgers/credit",
        headers={**reseller, "Idempotency-Key": "pay-1"},
        json={"data": {"amount": 250, "description": "pay-1"}},
    )
    assert replay.status_code == 200 and deliver_due(world.store, poster, gregorian_now(clock)).ids == []


def test_a_receiver_that_fails_gets_the_delivery_again_after_the_backoff(hooked):
    client, world, clock, poster, receiver = hooked
    hook = subscribe(client, world, receiver, ["payment.received"])
    receiver.statuses = [500]
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    client.simulate_put(
        f"/v2/accounts/{world.ids['customer_two']}/ledgers/credit",
        headers={**reseller, "Idempotency-Key": "pay-2"},
        json={"data": {"amount": 100, "description": "wire"}},
    )
    first = deliver_due(world.store, poster, gregorian_now(clock))
    assert first.retrying == 1 and first.delivered == 0
    assert deliver_due(world.store, poster, gregorian_now(clock)).ids == []  # not before its time
    clock.set(clock.now() + timedelta(seconds=31))
    assert deliver_due(world.store, poster, gregorian_now(clock)).delivered == 1
    assert len(receiver.verified(hook["secret"])) == 2  # the same event, twice: 500, then 200
    log = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/billing_webhooks/{hook['id']}/deliveries", headers=reseller
    ).json["data"]
    assert log[0]["state"] == "delivered" and [a["status"] for a in log[0]["history"]] == [500, 200]


def test_the_test_button_delivers_now_and_a_private_address_is_refused_unless_allowed(hooked):
    client, world, clock, poster, receiver = hooked
    hook = subscribe(client, world, receiver)
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    path = f"/v2/accounts/{world.ids['reseller']}/billing_webhooks/{hook['id']}/test"
    tested = client.simulate_put(path, headers=reseller)
    assert tested.status_code == 200 and tested.json["data"]["state"] == "delivered"
    assert receiver.verified(hook["secret"])[0]["type"] == "webhook.test"
    guarded = HttpWebhookPoster(allow_private=False)
    from bookkeeper.services.hooks_out.delivery import send_test

    refused = send_test(world.store, guarded, world.ids["reseller"], hook["id"], gregorian_now(clock))
    assert refused["state"] == "failed" and "not a public address" in refused["reason"]
    assert len(receiver.received) == 1  # nothing reached the receiver


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.net/x"}, "url"),
        ({"url": "https://user:pw@example.net/x"}, "url"),
        ({"url": "https://example.net/x", "events": ["payment.sent"]}, "events"),
        ({"url": "https://example.net/x", "events": []}, "events"),
        ({"url": "https://example.net/x", "enabled": "yes"}, "enabled"),
        ({"url": "https://example.net/x", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_webhook_is_400_naming_the_field_and_nothing_is_saved(hooked, body, field):
    client, world, _, _, _ = hooked
    path = f"/v2/accounts/{world.ids['reseller']}/billing_webhooks"
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    result = client.simulate_put(path, headers=headers, json={"data": body})
    assert result.status_code == 400 and field in result.json["data"], result.json
    assert client.simulate_get(path, headers=headers).json["data"] == []


def test_nobody_sees_or_changes_another_resellers_webhooks(hooked):
    client, world, _, _, receiver = hooked
    hook = subscribe(client, world, receiver)
    path = f"/v2/accounts/{world.ids['reseller']}/billing_webhooks"
    for caller in ("other_reseller", "customer_two", "clerk"):
        headers = {"X-Auth-Token": token(client, world, caller)}
        assert client.simulate_get(path, headers=headers).status_code == 403
        assert client.simulate_delete(f"{path}/{hook['id']}", headers=headers).status_code == 403
    customer_hooks = f"/v2/accounts/{world.ids['customer_two']}/billing_webhooks"
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    assert client.simulate_get(customer_hooks, headers=own).status_code == 404  # it bills nobody
