"""Correcting documents over the API: a reseller credits part of an invoice (once per
Idempotency-Key) and voids another, the list shows what corrected what, and every refusal names
its field and changes nothing: no number, no credit note, no money."""

from __future__ import annotations

from decimal import Decimal

from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.ledger_book import LedgerBook
from tests.unit.crossbar_api.test_api import token
from tests.unit.crossbar_api.test_onbills_api import issued_world


def issue(client, customer, reseller) -> str:
    issued = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    ).json["data"]["issued"]
    return issued[0]["id"]


def ledger_total(world, clock, customer) -> int:
    """The balance, December opened first (a credit runs a billing pass, which opens it)."""
    reconcile_account(BillingPorts(world.store, clock, world.world.design_docs), customer)
    return LedgerBook(world.store, world.world.design_docs).balance_at(
        customer, to_gregorian_seconds(int(clock.now().timestamp())) + 1
    )


def test_a_reseller_credits_part_of_an_invoice_once_and_voids_another(api):
    client, world, clock, customer, reseller = issued_world(api)
    invoice = issue(client, customer, reseller)
    url = f"/v2/accounts/{customer}/onbills/{invoice}"
    body = {"data": {"reason": "Outage on 12 November", "lines": [{"line": 1, "amount": 150.5}]}}
    keyed = {**reseller, "Idempotency-Key": "outage-12"}
    before = ledger_total(world, clock, customer)

    made = client.simulate_put(f"{url}/credit_note", headers=keyed, json=body)
    assert made.status_code == 201, made.json
    note = made.json["data"]["credit_note"]
    assert (note["document_type"], note["number"], note["refunded"]) == ("credit_note", "1", True)
    assert Decimal(str(note["total"])) == Decimal("150.50")
    after = ledger_total(world, clock, customer)
    assert after - before == 1_505_000  # 150.50 back to the balance, in Kazoo's units
    repeat = client.simulate_put(f"{url}/credit_note", headers=keyed, json=body)
    assert repeat.status_code == 200 and repeat.json["data"]["credit_note"]["id"] == note["id"]
    assert ledger_total(world, clock, customer) == after  # once
    other = client.simulate_put(
        f"{url}/credit_note", headers=keyed, json={"data": {"reason": "Something else", "lines": None}}
    )
    assert other.status_code in (400, 409) and "Idempotency-Key" in other.json["data"], other.json

    listed = client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=reseller).json["data"]
    (credit,) = [doc for doc in listed if doc["document_type"] == "credit_note"]
    assert credit["corrects"] == "1" and Decimal(str(credit["total"])) == Decimal("150.50")
    (original,) = [doc for doc in listed if doc["id"] == invoice]
    assert original["credit_notes"] == ["1"]
    one = client.simulate_get(f"/v2/accounts/{customer}/onbills/{note['id']}", headers=reseller).json["data"]
    assert one["corrects"]["id"] == invoice and one["reason"] == "Outage on 12 November"

    refused = client.simulate_put(f"{url}/void", headers=reseller, json={"data": {"reason": "wrong INN"}})
    assert refused.status_code == 409 and "doc_id" in refused.json["data"], refused.json  # credited already


def test_voiding_an_invoice_reissues_the_period_under_the_next_number(api):
    client, world, clock, customer, reseller = issued_world(api)
    invoice = issue(client, customer, reseller)
    url = f"/v2/accounts/{customer}/onbills/{invoice}"
    before = ledger_total(world, clock, customer)
    voided = client.simulate_put(f"{url}/void", headers=reseller, json={"data": {"reason": "Wrong buyer address"}})
    assert voided.status_code == 201, voided.json
    data = voided.json["data"]
    assert data["voided"] and not data["credit_note"]["refunded"]
    assert [(d["document_type"], d["number"]) for d in data["reissued"]] == [("invoice", "2"), ("act", "2")]
    assert ledger_total(world, clock, customer) == before  # a void moves no money
    again = client.simulate_put(f"{url}/void", headers=reseller, json={"data": {"reason": "Wrong buyer address"}})
    assert again.status_code == 200 and again.json["data"]["credit_note"]["id"] == data["credit_note"]["id"]
    keyed = {**reseller, "Idempotency-Key": "k"}
    late = client.simulate_put(f"{url}/credit_note", headers=keyed, json={"data": {"reason": "x"}})
    assert late.status_code == 409 and "doc_id" in late.json["data"]
    listed = client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=reseller).json["data"]
    (original,) = [doc for doc in listed if doc["id"] == invoice]
    assert original["voided"] == data["credit_note"]["number"] and original["number"] == "1"


def test_bad_corrections_name_their_field_and_change_nothing(api):
    client, world, clock, customer, reseller = issued_world(api)
    invoice = issue(client, customer, reseller)
    url = f"/v2/accounts/{customer}/onbills/{invoice}"
    keyed = {**reseller, "Idempotency-Key": "k1"}
    before = ledger_total(world, clock, customer)
    for headers, data, status, field in (
        (reseller, {"reason": "x"}, 400, "Idempotency-Key"),
        (keyed, {}, 400, "reason"),
        (keyed, {"reason": " "}, 400, "reason"),
        (keyed, {"reason": "x", "lines": [{"line": 9, "amount": 1}]}, 400, "lines[0].line"),
        (keyed, {"reason": "x", "lines": [{"line": 1, "amount": 1000.01}]}, 400, "lines[0].amount"),
        (keyed, {"reason": "x", "lines": [{"line": 1, "amount": "ten"}]}, 400, "lines[0].amount"),
        (keyed, {"reason": "x", "lines": [{"line": 1, "amount": 0.001}]}, 400, "lines[0].amount"),
        (keyed, {"reason": "x", "vat": 0}, 400, "vat"),
    ):
        refused = client.simulate_put(f"{url}/credit_note", headers=headers, json={"data": data})
        assert refused.status_code == status and field in refused.json["data"], (data, refused.json)
    own = {"X-Auth-Token": token(client, world, "customer_two"), "Idempotency-Key": "k2"}
    mine = client.simulate_put(f"{url}/credit_note", headers=own, json={"data": {"reason": "x"}})
    assert mine.status_code == 403  # only a reseller above the account corrects its documents
    missing = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/202611-kazbill-doc-invoice-main-20261001/void",
        headers=reseller,
        json={"data": {"reason": "x"}},
    )
    assert missing.status_code == 404
    listed = client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=reseller).json["data"]
    assert [doc["document_type"] for doc in listed] == ["invoice", "act"]  # no credit note was made
    assert ledger_total(world, clock, customer) == before
