"""The tenant-isolation matrix: who may read and who may credit which account, for every caller
of the reseller tree (master, reseller, sub-reseller, customers, another reseller's, a clerk)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.crossbar_api.test_api import token


MATRIX = [
    # caller, target, may read
    ("master", "other_customer", True), ("reseller", "customer", True), ("reseller", "reseller", True),
    ("reseller", "other_customer", False), ("reseller", "master", False), ("sub", "customer", True),
    ("sub", "customer_two", False), ("sub", "reseller", False), ("customer", "customer", True),
    ("customer", "sub", False), ("customer", "customer_two", False), ("other_reseller", "customer", False),
    ("clerk", "customer", True),
]


@pytest.mark.parametrize("caller, target, allowed", MATRIX)
def test_no_caller_reads_an_account_outside_its_tree(api, caller, target, allowed):
    client, world, _ = api
    result = client.simulate_get(f"/v2/accounts/{world.ids[target]}/ledgers/total",
                                 headers={"X-Auth-Token": token(client, world, caller)})
    assert result.status_code == (200 if allowed else 403), result.json


CREDIT_MATRIX = [
    ("master", "customer", True), ("reseller", "customer", True), ("sub", "customer", True),
    ("customer", "customer", False),  # nobody credits itself
    ("clerk", "customer", False), ("other_reseller", "customer", False), ("sub", "customer_two", False),
]


@pytest.mark.parametrize("caller, target, allowed", CREDIT_MATRIX)
def test_only_a_reseller_above_an_account_credits_it(api, caller, target, allowed):
    client, world, _ = api
    result = client.simulate_put(f"/v2/accounts/{world.ids[target]}/ledgers/credit",
                                 headers={"X-Auth-Token": token(client, world, caller)},
                                 json={"data": {"amount": 100, "description": "wire"}})
    assert result.status_code == (201 if allowed else 403), result.json
    balance = client.simulate_get(f"/v2/accounts/{world.ids[target]}/ledgers/total",
                                  headers={"X-Auth-Token": token(client, world, "master")}).json["data"]["amount"]
    assert Decimal(str(balance)) == (100 if allowed else 0)
