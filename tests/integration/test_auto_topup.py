"""Auto top-up end to end on both stores: a debit below the threshold queues a request, the
mailer's charging step charges the default card once, at most once in 24 hours, notifies the
admins either way, and the third decline in a row switches it off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from bookkeeper.services.billing.topup_requests import TOPUPS_DB
from bookkeeper.services.payments.auto_topup import charge_due_topups
from bookkeeper.services.payments.card_payments import CardPorts
from testkit.fixtures.api_world import MSK
from testkit.support.listed import listed
from tests.integration.test_braintree import balance, customer_path
from tests.unit.crossbar_api.test_api import token

pytestmark = pytest.mark.integration


def setup_card(api, world, nonce):
    me = {"X-Auth-Token": token(api, world, "other_customer")}
    api.simulate_put(customer_path(world, "cards"), json={"data": {"payment_method_nonce": nonce}}, headers=me)
    answer = api.simulate_post(
        f"/v2/accounts/{world.ids['other_customer']}/auto_topup",
        headers=me,
        json={"data": {"enabled": True, "threshold": 50, "amount": 100}},
    )
    assert answer.status_code == 200, answer.json
    return me


def debit(api, world, amount, key):
    answer = api.simulate_put(
        f"/v2/accounts/{world.ids['other_customer']}/ledgers/debit",
        json={"data": {"amount": amount}},
        headers={"X-Auth-Token": token(api, world, "other_reseller"), "Idempotency-Key": key},
    )
    assert answer.status_code == 201, answer.json


def charge(world, queued_today: bool = True):
    """The mailer's charging pass. It finds the requests through the `queued` view, which on a
    cluster may list a request a moment after it was written: with `queued_today`, the pass runs
    once today's request is listed (testkit/support/listed.py)."""
    if queued_today:
        today = world.clock.now().astimezone(MSK).date().isoformat()
        request_id = f"autotopup-{world.ids['other_customer']}-{today}"
        listed(
            lambda: {row.id for row in world.store.query_view(TOPUPS_DB, "kazbill_topups", "queued").rows},
            lambda ids: request_id in ids,
        )
    ports = CardPorts(BillingPorts(world.store, world.clock, world.world.design_docs), world.cards)
    return charge_due_topups(ports, to_gregorian_seconds(int(world.clock.now().timestamp())))


def notices(world, kind, count):
    """The notices of this kind, once `count` of them are listed (see `charge`)."""

    def read():
        rows = world.store.all_docs(NOTICES_DB, ViewQuery(include_docs=True)).rows
        return [row.doc for row in rows if row.doc and row.doc.get("kind") == kind]

    return listed(read, lambda found: len(found) >= count)


def test_a_debit_below_the_threshold_tops_up_once_a_day(braintree):
    api, _, world, fake = braintree
    setup_card(api, world, "fake-valid-visa-nonce")
    debit(api, world, 30, "d1")  # balance -30.00, threshold 50.00
    assert charge(world).charged == 1
    assert (len(fake.sales), fake.sales[0]["amount"]) == (1, "100.00")
    assert balance(world, "other_customer") == 700_000
    debit(api, world, 40, "d2")  # 30.00: below again, the same day
    assert (charge(world, queued_today=False).charged, len(fake.sales)) == (0, 1)
    world.clock.advance(timedelta(hours=25))
    debit(api, world, 1, "d3")
    assert charge(world).charged == 1 and balance(world, "other_customer") == 1_290_000
    assert charge(world, queued_today=False).charged == 0  # nothing left queued
    assert [n["details"]["transaction_id"] for n in notices(world, "topup_succeeded", len(fake.sales))] == [
        s["id"] for s in fake.sales
    ]


def test_three_declines_in_a_row_switch_auto_top_up_off_until_the_admin_turns_it_on(braintree):
    api, _, world, fake = braintree
    me = setup_card(api, world, "fake-processor-declined-visa-nonce")
    debit(api, world, 10, "first")
    for day in range(3):
        report = charge(world)
        assert report.failed == 1, report
        world.clock.advance(timedelta(hours=24))
        debit(api, world, 1, f"day{day}")  # a debit on each following day queues that day's request
    assert charge(world, queued_today=False).details == []  # switched off: the last debit queued nothing
    me = {"X-Auth-Token": token(api, world, "other_customer")}  # three days on: a fresh login
    shown = api.simulate_get(f"/v2/accounts/{world.ids['other_customer']}/auto_topup", headers=me).json["data"]
    assert shown["failures"] == 3 and "Do Not Honor" in shown["switched_off_because"]
    failed = notices(world, "topup_failed", 3)
    assert [n["details"]["switched_off"] for n in failed] == [False, False, True]
    assert len(fake.sales) == 3 and balance(world, "other_customer") == -130_000
    again = api.simulate_post(
        f"/v2/accounts/{world.ids['other_customer']}/auto_topup", json={"data": {"enabled": True}}, headers=me
    ).json["data"]
    assert (again["failures"], again["switched_off_because"]) == (0, None)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"enabled": True, "threshold": 50}, "amount"),
        ({"threshold": 50, "amount": 1000}, "amount"),  # above the reseller's max
        ({"amount": "ten"}, "amount"),
        ({"cap": 1}, "cap"),
    ],
)
def test_bad_auto_top_up_settings_are_refused_by_field(braintree, data, field):
    api, _, world, _ = braintree
    answer = api.simulate_post(
        f"/v2/accounts/{world.ids['other_customer']}/auto_topup",
        json={"data": data},
        headers={"X-Auth-Token": token(api, world, "other_customer")},
    )
    assert answer.status_code == 400 and field in answer.json["data"], answer.json
    assert world.store.get_many(account_db(world.ids["other_customer"]), ["kazbill_auto_topup"]) == {}
