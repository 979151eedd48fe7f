"""Idempotency keys and gateway ids are kept exactly as given: `PO 17`, `PO/17`, `PO.17` and
`PO:17` are four postings (the old slug made them one), on both stores; and whatever was
written under the old slug ids is still found, so a replay of an old payment stays a replay."""

from __future__ import annotations

from datetime import datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.charges import slug
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments import keyed_ids
from bookkeeper.services.payments.card_payments import claim_of
from bookkeeper.services.payments.keyed_ids import KeyedDoc
from bookkeeper.services.payments.postings import apply_payment, delete_manual_entry, find_registration
from testkit.fixtures.billing_world import World
from tests.integration.test_billing_worked_examples import MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
PO_17 = ["PO 17", "PO/17", "PO.17", "PO:17"]


@pytest.fixture
def world(store):
    return World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)


def customer_and_ports(world):
    customer = world.customer("Alpha Taxi", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1})
    return customer, BillingPorts(
        world.store, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs
    )


def balance(world, account_id):
    return LedgerBook(world.store, world.design_docs).balance(account_id, (2026, 11), 0)


def credit(ports, customer, key, amount=1_000_000):
    return apply_payment(ports, customer, amount=amount, reason="wire_transfer", external_id=key, by="ops")[0]


def test_four_keys_the_slug_made_one_are_four_credits_and_each_replay_posts_nothing(world):
    customer, ports = customer_and_ports(world)
    assert [credit(ports, customer, key).name for key in PO_17] == ["posted"] * 4
    assert [credit(ports, customer, key).name for key in PO_17] == ["posting_duplicate"] * 4
    assert balance(world, customer) == 4_000_000
    entries = {find_registration(world.store, customer, "wire_transfer", key)["entry_id"] for key in PO_17}
    assert entries == {
        "202611-kazbill-wire_transfer-PO.2017",
        "202611-kazbill-wire_transfer-PO.2F17",
        "202611-kazbill-wire_transfer-PO.2E17",
        "202611-kazbill-wire_transfer-PO.3A17",
    }


def test_a_payment_posted_under_its_old_slug_id_is_still_a_replay_and_a_key_sharing_that_slug_is_not(
    world, monkeypatch
):
    customer, ports = customer_and_ports(world)
    with monkeypatch.context() as before:  # the ids as Kazbill wrote them before they were reversible
        before.setattr(keyed_ids, "id_part", slug)
        before.setattr(keyed_ids, "legacy_id_part", lambda key: None)
        assert credit(ports, customer, "PO 17").name == "posted"
    assert world.store.get(account_db(customer), "kazbill_posting-wire_transfer-PO_17")["external_id"] == "PO 17"
    replay = credit(ports, customer, "PO 17")
    assert (replay.name, replay.details["entry_id"]) == ("posting_duplicate", "202611-kazbill-wire_transfer-PO_17")
    assert credit(ports, customer, "PO/17").name == "posted"  # shares the old slug, yet is another payment
    assert credit(ports, customer, "PO/17").name == "posting_duplicate"
    assert balance(world, customer) == 2_000_000
    assert (
        find_registration(world.store, customer, "wire_transfer", "PO 17")["_id"]
        == "kazbill_posting-wire_transfer-PO_17"
    )


def test_a_manual_credit_whose_key_was_escaped_can_be_deleted_once(world):
    customer, ports = customer_and_ports(world)
    posted = apply_payment(ports, customer, amount=5_000_000, reason="manual_addition", external_id="fix/1", by="ops")[
        0
    ]
    assert posted.details["entry_id"] == "202611-kazbill-manual_addition-fix.2F1"
    deleted = delete_manual_entry(ports, customer, posted.details["entry_id"], by="ops")
    assert deleted[0].name == "posted" and balance(world, customer) == 0
    again = delete_manual_entry(ports, customer, posted.details["entry_id"], by="ops")
    assert again[0].name == "posting_duplicate" and balance(world, customer) == 0


def test_a_key_whose_id_an_old_slug_holds_for_another_key_gets_an_id_of_its_own(world, monkeypatch):
    customer, ports = customer_and_ports(world)
    with monkeypatch.context() as before:
        before.setattr(keyed_ids, "id_part", slug)
        before.setattr(keyed_ids, "legacy_id_part", lambda key: None)
        credit(ports, customer, "PO 17")  # written as "…-PO_17", the id "PO_17" itself has now
    assert credit(ports, customer, "PO_17").name == "posted"
    assert credit(ports, customer, "PO_17").name == "posting_duplicate"
    assert credit(ports, customer, "PO 17").name == "posting_duplicate"
    assert (
        find_registration(world.store, customer, "wire_transfer", "PO_17")["entry_id"]
        == "202611-kazbill-wire_transfer-PO.5F17"
    )
    assert balance(world, customer) == 2_000_000


def test_a_top_up_claimed_under_its_old_slug_id_is_found_only_for_its_own_key(world):
    customer, _ = customer_and_ports(world)
    db = account_db(customer)
    world.store.put(db, {"_id": "kazbill_topup-k_1", "pvt_type": "kazbill_topup", "key": "k 1", "state": "charged"})
    assert claim_of(world.store, db, "topup", "k 1").doc["_id"] == "kazbill_topup-k_1"
    assert claim_of(world.store, db, "topup", "k/1") == KeyedDoc("kazbill_topup-k.2F1", None)
    assert claim_of(world.store, db, "topup", "k_1") == KeyedDoc("kazbill_topup-k.5F1", None)
