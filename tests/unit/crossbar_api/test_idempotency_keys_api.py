"""Idempotency-Keys are kept exactly as given: keys the old slug made one are distinct credits."""

from __future__ import annotations

from bookkeeper.services.billing.ledger_book import LedgerBook
from tests.unit.crossbar_api.test_api import token

PO_17 = ["PO 17", "PO/17", "PO.17", "PO:17"]


def test_api_credits_keyed_po_17_four_ways_are_four_and_repeats_return_the_first_answer(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    boss = token(client, world, "reseller")

    def put(key):
        return client.simulate_put(
            f"/v2/accounts/{customer}/ledgers/credit",
            body='{"data": {"amount": 10}}',
            headers={"X-Auth-Token": boss, "Idempotency-Key": key},
        )

    first = [put(key) for key in PO_17]
    assert [answer.status_code for answer in first] == [201] * 4
    assert len({answer.json["data"]["id"] for answer in first}) == 4
    repeats = [put(key) for key in PO_17]
    assert [answer.status_code for answer in repeats] == [200] * 4
    assert [a.json["data"]["id"] for a in repeats] == [a.json["data"]["id"] for a in first]
    assert LedgerBook(world.store, world.world.design_docs).balance(customer, (2026, 11), 0) == 400_000
