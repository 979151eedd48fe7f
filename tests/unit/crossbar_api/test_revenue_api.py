"""GET .../revenue: a reseller's month in figures, per currency: MRR and standing from the
directory, and what was billed and collected per ledger source and billed per service category,
from the month figures the passes keep; bad months named; nobody reads another reseller's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.api_world import MSK
from tests.unit.crossbar_api.test_api import token

BILLED = ("sub", "customer", "customer_two", "other_reseller", "other_customer")


@pytest.fixture
def month(api):
    client, world, clock = api
    world.world.add_devices(world.ids["customer_two"], 3)  # 3 phones at 500.00 a month
    bill_accounts(BillingPorts(world.store, clock, world.world.design_docs), [world.ids[n] for n in BILLED])
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    paid = client.simulate_put(
        f"/v2/accounts/{world.ids['customer_two']}/ledgers/credit",
        headers={**reseller, "Idempotency-Key": "rev-1"},
        json={"data": {"amount": 700, "description": "wire"}},
    )
    assert paid.status_code == 201
    onbill = world.store.get(account_db(world.ids["reseller"]), "onbill")
    world.store.put(account_db(world.ids["reseller"]), {**onbill, "default_rate_deck": "retail"})
    import_rate_deck(
        world.store,
        world.ids["reseller"],
        "retail",
        ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60"],
    )
    ended = to_gregorian_seconds(int(datetime(2026, 11, 10, 11, 0, tzinfo=MSK).timestamp()))
    calls = [
        FinishedCall(world.ids["customer_two"], f"rev-call-{n}", 61 + n, "74951234567", "outbound", True, ended)
        for n in range(2)
    ]  # two minutes each at 1.20
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)), world.world.design_docs)
    assert not rate_calls(ports, calls).failed
    bill_accounts(ports, [world.ids["customer_two"]])  # the account's next pass (at the latest, the day's crawl)
    return client, world, reseller


def test_the_month_billed_and_collected_per_source_beside_mrr_and_standing(month):
    client, world, reseller = month
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/revenue", params={"month": "202611"}, headers=reseller
    )
    assert result.status_code == 200, result.json
    rub = {row["currency"]: row for row in result.json["data"]["currencies"]}["RUB"]
    assert Decimal(str(rub["mrr"])) == 1500 and rub["accounts"] == 2  # Sub and Customer Two bill in roubles
    assert Decimal(str(rub["collected"]["payments"])) == 700 and Decimal(str(rub["collected_total"])) == 700
    # November's period opened for 3 phones (the account exists since January: a whole month)
    assert Decimal(str(rub["billed"]["services"])) == 1500 and Decimal(
        str(rub["billed"]["per-minute-voip"])
    ) == Decimal("4.8")
    assert Decimal(str(rub["billed_total"])) == Decimal("1504.8")
    assert {category: Decimal(str(amount)) for category, amount in rub["billed_by_category"].items()} == {
        "devices": 1500,
        "calls": Decimal("4.8"),
    }
    empty = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/revenue", params={"month": "202610"}, headers=reseller
    )
    assert {row["currency"]: row for row in empty.json["data"]["currencies"]}["RUB"]["billed"] == {}


@pytest.mark.parametrize("bad", ["2026-11", "202613", "19991", "november"])
def test_a_bad_month_is_400_naming_it(month, bad):
    client, world, reseller = month
    result = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/revenue", params={"month": bad}, headers=reseller
    )
    assert result.status_code == 400 and "month" in result.json["data"]


def test_another_reseller_reads_none_of_it(month):
    client, world, _ = month
    other = {"X-Auth-Token": token(client, world, "other_reseller")}
    assert client.simulate_get(f"/v2/accounts/{world.ids['reseller']}/revenue", headers=other).status_code == 403
