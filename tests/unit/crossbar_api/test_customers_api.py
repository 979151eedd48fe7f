"""GET .../customers: a reseller finds its customers by name, sees balance and standing at a
glance, pages through them, exports them as CSV a spreadsheet opens safely, and never sees
another reseller's."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.directory import DIRECTORY_DB
from bookkeeper.services.operations.account_batches import bill_accounts
from tests.unit.crossbar_api.test_api import token

BILLED = ("sub", "customer", "customer_two", "other_reseller", "other_customer")


@pytest.fixture
def billed(api):
    """The world after its accounts' passes: each has its summary in the directory."""
    client, world, clock = api
    world.world.add_devices(world.ids["customer_two"], 3)  # 3 phones at 500.00 a month
    ports = BillingPorts(world.store, clock, world.world.design_docs)
    assert not bill_accounts(ports, [world.ids[name] for name in BILLED]).failed
    return client, world, clock, ports


def customers(client, world, caller, target, **params):
    return client.simulate_get(
        f"/v2/accounts/{world.ids[target]}/customers",
        params=params,
        headers={"X-Auth-Token": token(client, world, caller)},
    )


def names(result) -> list[str]:
    assert result.status_code == 200, result.json
    return [row["name"] for row in result.json["data"]]


def test_a_reseller_lists_every_account_below_it_by_name_with_balance_and_standing(billed):
    client, world, _, _ = billed
    result = customers(client, world, "reseller", "reseller")
    assert names(result) == ["Customer", "Customer Two", "Sub"]
    rows = {row["name"]: row for row in result.json["data"]}
    assert rows["Customer"]["id"] == world.ids["customer"] and rows["Customer"]["parent_id"] == world.ids["sub"]
    assert rows["Customer"]["reseller_id"] == world.ids["sub"]  # billed by the sub-reseller, in its currency
    row = rows["Customer Two"]
    assert row["reseller_id"] == world.ids["reseller"] and row["currency"] == "RUB"
    assert row["standing"] == "good_standing" and row["blocked"] is False
    assert row["trial"] is False and row["closed"] is False
    # The office plan's monthly charges, debited at the period's opening (prorated from the 10th):
    # the balance shows them.
    assert Decimal(str(row["monthly"])) == 1500 and Decimal(str(row["balance"])) < 0
    assert isinstance(row["balance_at"], int)
    assert names(customers(client, world, "reseller", "reseller", depth="children")) == ["Customer Two", "Sub"]
    assert names(customers(client, world, "sub", "sub")) == ["Customer"]
    assert names(customers(client, world, "master", "master")) == [
        "Customer",
        "Customer Two",
        "Other Customer",
        "Other Reseller",
        "Sub",
    ]


def test_a_search_finds_part_of_a_name_or_a_realm_in_any_case(billed):
    client, world, _, ports = billed
    customer = world.ids["customer_two"]
    for db in (ACCOUNTS_DB, account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "realm": "pbx.Beta-Clinic.example"})
    bill_accounts(ports, [customer])
    assert names(customers(client, world, "reseller", "reseller", q="TWO")) == ["Customer Two"]
    assert names(customers(client, world, "reseller", "reseller", q="beta-clinic")) == ["Customer Two"]
    assert names(customers(client, world, "reseller", "reseller", q="nobody")) == []


def test_pages_follow_each_other_to_the_last_without_repeating_a_row(billed):
    client, world, _, _ = billed
    seen, start = [], None
    while True:
        params = {"page_size": 1, **({"start_key": start} if start else {})}
        result = customers(client, world, "master", "master", **params)
        seen += names(result)
        start = result.json.get("next_start_key")
        if start is None:
            break
    assert seen == ["Customer", "Customer Two", "Other Customer", "Other Reseller", "Sub"]


def test_a_debit_moves_the_listed_balance_and_a_delinquent_account_is_found_by_its_standing(billed):
    client, world, _, _ = billed
    customer = world.ids["customer_two"]
    limits = world.store.get(account_db(customer), "limits")
    world.store.put(account_db(customer), {**limits, "pvt_allow_postpay": False, "pvt_max_postpay_amount": 0})
    before = {row["id"]: row for row in customers(client, world, "reseller", "reseller").json["data"]}
    result = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/debit",
        headers={"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "debit-1"},
        json={"data": {"amount": 25, "description": "correction"}},
    )
    assert result.status_code == 201, result.json
    after = {row["id"]: row for row in customers(client, world, "reseller", "reseller").json["data"]}
    assert Decimal(str(after[customer]["balance"])) == Decimal(str(before[customer]["balance"])) - 25
    assert after[customer]["standing"] == "delinquent"
    assert names(customers(client, world, "reseller", "reseller", standing="delinquent")) == ["Customer Two"]
    assert "Customer Two" not in names(customers(client, world, "reseller", "reseller", standing="good_standing"))


def test_the_csv_export_streams_every_row_and_a_formula_in_a_name_stays_text(billed):
    client, world, _, ports = billed
    customer = world.ids["customer"]
    for db in (ACCOUNTS_DB, account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "name": '=HYPERLINK("http://evil.example","Пётр")'})
    bill_accounts(ports, [customer])
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Accept": "text/csv"}
    by_accept = client.simulate_get(f"/v2/accounts/{world.ids['reseller']}/customers", headers=headers)
    by_param = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/customers",
        params={"format": "csv", "page_size": 1},  # an export is every row, not a page
        headers={"X-Auth-Token": headers["X-Auth-Token"]},
    )
    assert by_accept.status_code == by_param.status_code == 200
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_accept.headers["content-disposition"]
    assert by_accept.text == by_param.text
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(by_accept.text.lstrip("\ufeff")))}
    assert set(rows) == {world.ids["customer_two"], world.ids["sub"], customer}
    assert rows[customer]["name"] == '\'=HYPERLINK("http://evil.example","Пётр")'
    two = rows[world.ids["customer_two"]]
    assert Decimal(two["balance"]) < 0  # a negative number stays a number
    assert two["standing"] == "good_standing" and two["currency"] == "RUB" and two["monthly"] == "1500"
    assert two["balance_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"depth": "grandchildren"}, "depth"),
        ({"standing": "rich"}, "standing"),
        ({"blocked": "maybe"}, "blocked"),
        ({"trial": "1"}, "trial"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"start_key": "not-a-key"}, "start_key"),
        ({"q": "x" * 101}, "q"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_a_bad_query_is_400_naming_its_field(billed, params, field):
    client, world, _, _ = billed
    result = customers(client, world, "reseller", "reseller", **params)
    assert result.status_code == 400 and field in result.json["data"], result.json


@pytest.mark.parametrize(
    "caller, target, allowed, listed",
    [
        ("reseller", "reseller", True, {"sub", "customer", "customer_two"}),
        ("sub", "sub", True, {"customer"}),
        ("sub", "reseller", False, set()),
        ("customer", "customer", True, set()),
        ("customer", "reseller", False, set()),
        ("other_reseller", "reseller", False, set()),
        ("other_reseller", "other_reseller", True, {"other_customer"}),
        ("clerk", "customer", True, set()),
        ("master", "other_reseller", True, {"other_customer"}),
    ],
)
def test_no_caller_lists_an_account_outside_its_tree_csv_included(billed, caller, target, allowed, listed):
    client, world, _, _ = billed
    for params in ({}, {"format": "csv"}):
        result = customers(client, world, caller, target, **params)
        assert result.status_code == (200 if allowed else 403), result.text
        if not allowed:
            continue
        if params:
            ids = {row["id"] for row in csv.DictReader(io.StringIO(result.text.lstrip("\ufeff")))}
        else:
            ids = {row["id"] for row in result.json["data"]}
        assert ids == {world.ids[name] for name in listed}


def test_an_account_closed_in_kazoo_leaves_the_list_and_is_found_among_the_closed(billed):
    client, world, _, ports = billed
    customer = world.ids["customer_two"]
    for db in (ACCOUNTS_DB, account_db(customer)):
        world.store.put(db, {**world.store.get(db, customer), "pvt_deleted": True})
    bill_accounts(ports, [customer])
    assert names(customers(client, world, "reseller", "reseller")) == ["Customer", "Sub"]
    assert names(customers(client, world, "reseller", "reseller", closed="true")) == ["Customer Two"]
    assert world.store.get(DIRECTORY_DB, customer)["closed"] is True


def test_one_accounts_summary_has_its_live_balance_and_a_new_account_is_named_not_billed(billed):
    client, world, _, _ = billed
    customer = world.ids["customer_two"]
    reseller = {"X-Auth-Token": token(client, world, "reseller")}
    client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        headers={**reseller, "Idempotency-Key": "sum-1"},
        json={"data": {"amount": 5, "description": "wire"}},
    )
    summary = client.simulate_get(f"/v2/accounts/{customer}/summary", headers=reseller)
    total = client.simulate_get(f"/v2/accounts/{customer}/ledgers/total", headers=reseller)
    assert summary.status_code == 200 and summary.json["data"]["balance"] == total.json["data"]["amount"]
    assert summary.json["data"]["name"] == "Customer Two" and summary.json["data"]["monthly"] == 1500
    other = {"X-Auth-Token": token(client, world, "other_reseller")}
    assert client.simulate_get(f"/v2/accounts/{customer}/summary", headers=other).status_code == 403
    unbilled = client.simulate_get(f"/v2/accounts/{world.ids['reseller']}/summary", headers=reseller)
    assert unbilled.status_code == 404 and "account_id" in unbilled.json["data"]
