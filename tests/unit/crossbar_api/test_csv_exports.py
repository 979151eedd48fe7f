"""CSV exports of an account's transactions, its per-minute calls and its documents: every row of
the range (not a page), streamed, opened safely in a spreadsheet, and refused to whoever may not
read the account."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.api_world import MSK
from tests.unit.crossbar_api.test_api import token
from tests.unit.crossbar_api.test_onbills_api import issued_world


def rows_of(result) -> list[dict[str, str]]:
    assert result.status_code == 200, result.text[:500]
    assert result.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(result.text.lstrip("\ufeff"))))


def test_transactions_as_csv_are_every_entry_with_a_formula_kept_as_text(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    for n in range(3):
        client.simulate_put(
            f"/v2/accounts/{customer}/ledgers/credit",
            headers={**reseller, "Idempotency-Key": f"csv-{n}"},
            json={"data": {"amount": 10 + n, "description": "=2+2" if n == 0 else f"wire {n}"}},
        )
    rows = rows_of(
        client.simulate_get(
            f"/v2/accounts/{customer}/transactions", params={"format": "csv", "page_size": 1}, headers=reseller
        )
    )
    credits = [row for row in rows if row["type"] == "credit"]
    assert sorted(row["amount"] for row in credits) == ["10", "11", "12"]
    assert {row["description"] for row in credits} >= {"'=2+2", "wire 1"}
    assert all(row["created"].endswith("+00:00") for row in rows)
    other = {"X-Auth-Token": token(client, world, "other_reseller")}
    assert client.simulate_get(f"/v2/accounts/{customer}/transactions?format=csv", headers=other).status_code == 403


def test_per_minute_calls_as_csv_name_the_number_the_seconds_and_the_rate(api):
    client, world, clock = api
    customer, sub = world.ids["customer"], world.ids["sub"]
    onbill = world.store.get(account_db(sub), "onbill")
    world.store.put(account_db(sub), {**onbill, "default_rate_deck": "retail"})
    import_rate_deck(world.store, sub, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60"])
    ended = to_gregorian_seconds(int(datetime(2026, 11, 10, 11, 0, tzinfo=MSK).timestamp()))
    calls = [FinishedCall(customer, f"csv-call-{n}", 61 + n, "74951234567", "outbound", True, ended) for n in range(2)]
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)), world.world.design_docs)
    assert not rate_calls(ports, calls).failed
    rows = rows_of(
        client.simulate_get(
            f"/v2/accounts/{customer}/ledgers/per-minute-voip",
            params={"format": "csv"},
            headers={"X-Auth-Token": token(client, world, "reseller")},
        )
    )
    assert len(rows) == 2 and {row["number"] for row in rows} == {"74951234567"}
    assert {row["billed_seconds"] for row in rows} == {"120"} and {row["rate_prefix"] for row in rows} == {"7495"}
    assert {row["amount"] for row in rows} == {"2.4"}


def test_documents_as_csv_list_each_with_its_number_and_total(api):
    client, world, clock, customer, reseller = issued_world(api)
    generated = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    )
    assert generated.status_code == 201
    rows = rows_of(client.simulate_get(f"/v2/accounts/{customer}/onbills", params={"format": "csv"}, headers=reseller))
    numbers = {row["number"] for row in rows}
    assert rows and all(row["number"] for row in rows) and len(numbers) >= 1
    assert all(row["currency"] == "RUB" and row["total"] for row in rows if row["document_type"] == "invoice")
