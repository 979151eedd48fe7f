"""The tenant-isolation matrix: who may read and who may credit which account, for every caller
of the reseller tree (master, reseller, sub-reseller, customers, another reseller's, a clerk),
and who may act "from above" on a sub-account of a parent that is not a reseller."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import account_db
from tests.unit.crossbar_api.test_api import token

MATRIX = [
    # caller, target, may read
    ("master", "other_customer", True),
    ("reseller", "customer", True),
    ("reseller", "reseller", True),
    ("reseller", "other_customer", False),
    ("reseller", "master", False),
    ("sub", "customer", True),
    ("sub", "customer_two", False),
    ("sub", "reseller", False),
    ("customer", "customer", True),
    ("customer", "sub", False),
    ("customer", "customer_two", False),
    ("other_reseller", "customer", False),
    ("clerk", "customer", True),
]


@pytest.mark.parametrize("caller, target, allowed", MATRIX)
def test_no_caller_reads_an_account_outside_its_tree(api, caller, target, allowed):
    client, world, _ = api
    result = client.simulate_get(
        f"/v2/accounts/{world.ids[target]}/ledgers/total", headers={"X-Auth-Token": token(client, world, caller)}
    )
    assert result.status_code == (200 if allowed else 403), result.json


CREDIT_MATRIX = [
    ("master", "customer", True),
    ("reseller", "customer", True),
    ("sub", "customer", True),
    ("customer", "customer", False),  # nobody credits itself
    ("clerk", "customer", False),
    ("other_reseller", "customer", False),
    ("sub", "customer_two", False),
]


@pytest.mark.parametrize("caller, target, allowed", CREDIT_MATRIX)
def test_only_a_reseller_above_an_account_credits_it(api, caller, target, allowed):
    client, world, _ = api
    result = client.simulate_put(
        f"/v2/accounts/{world.ids[target]}/ledgers/credit",
        headers={"X-Auth-Token": token(client, world, caller)},
        json={"data": {"amount": 100, "description": "wire"}},
    )
    assert result.status_code == (201 if allowed else 403), result.json
    balance = client.simulate_get(
        f"/v2/accounts/{world.ids[target]}/ledgers/total", headers={"X-Auth-Token": token(client, world, "master")}
    ).json["data"]["amount"]
    assert Decimal(str(balance)) == (100 if allowed else 0)


# A parent that is not a reseller: master → reseller → customer_two → its own sub-account
# ("customer_two_child"). The child is billed by the reseller, so customer_two may read it but
# may not credit, debit or change its terms; nor may the child itself.
CHILD = "customer_two_child"


@pytest.fixture
def family(api):
    client, world, clock = api
    child = world._account(CHILD, [world.ids["master"], world.ids["reseller"], world.ids["customer_two"]])
    for db in ("accounts", account_db(child)):  # on trial, so that a trial can be extended
        world.store.put(db, {**world.store.get(db, child), "pvt_trial_expires": 63_962_000_000})
    return client, world, clock


def _manual_entry(client, world) -> str:
    """A manual credit the reseller posted on the child, for the deletion row of the matrix."""
    posted = client.simulate_put(
        f"/v2/accounts/{world.ids[CHILD]}/ledgers/credit",
        json={"data": {"amount": 5}},
        headers={"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "w-1"},
    )
    assert posted.status_code == 201, posted.json
    return posted.json["data"]["id"]


NO_INVOICE = "202610-kazbill-doc-invoice-main-20261001"  # no period was issued: past the check, 404
# What may be done to an account only from above it, each as (method, path under the account, body).
FROM_ABOVE = {
    "credit": ("PUT", "ledgers/credit", {"amount": 100, "description": "wire"}),
    "debit": ("PUT", "ledgers/debit", {"amount": 100, "description": "correction"}),
    "kazoo_credit": (
        "PUT",
        "ledgers/credit",
        {
            "amount": 100,
            "source": {"service": "adjustments", "id": "a-1"},
            "usage": {"type": "credit", "quantity": 0, "unit": "USD"},
        },
    ),
    "delete_entry": ("DELETE", "ledgers/{entry}", None),
    "trial": ("POST", "onbill_trial", {"action": "extend", "days": 30}),
    "private_limits": ("PATCH", "onbill_pvt_limits", {"allow_postpay": True, "max_postpay_amount": 10000}),
    "assign_plan": ("POST", "service_plans/plan_office", None),
    "unassign_plan": ("DELETE", "service_plans/plan_office", None),
    "bulk_plans": ("POST", "service_plans", {"add": ["plan_office"]}),
    "billing_terms": ("PATCH", "onbill", {"payment_type": "postpay", "billing_day": 15}),
    "refund": ("PUT", "braintree/transactions/sale-1/refund", {"amount": 10}),
    "issue_documents": ("PUT", "onbills/generate", {"period_start": "2026-10-01"}),
    "credit_note": ("PUT", f"onbills/{NO_INVOICE}/credit_note", {"reason": "outage"}),
    "void": ("PUT", f"onbills/{NO_INVOICE}/void", {"reason": "wrong details"}),
}
# What an allowed caller gets past the access check: a refund then finds no Braintree set up (404), a
# period never opened has nothing to issue (200).
DONE = {
    "credit": 201,
    "debit": 201,
    "kazoo_credit": 201,
    "delete_entry": 200,
    "trial": 200,
    "private_limits": 200,
    "assign_plan": 200,
    "unassign_plan": 200,
    "bulk_plans": 200,
    "billing_terms": 200,
    "refund": 404,
    "issue_documents": 200,
    "credit_note": 404,
    "void": 404,
}
ALLOWED = {"master": True, "reseller": True, "customer_two": False, CHILD: False, "other_reseller": False, "sub": False}


def _state(world) -> dict:
    """Everything the refused calls could have changed."""
    child = world.ids[CHILD]
    store = world.store
    return {
        "account": {k: v for k, v in store.get("accounts", child).items() if k != "_rev"},
        "limits": store.get(account_db(child), "limits"),
        "onbill": store.get(account_db(child), "onbill"),
        "services": store.get("services", child),
    }


@pytest.mark.parametrize("caller", sorted(ALLOWED))
@pytest.mark.parametrize("action", sorted(FROM_ABOVE))
def test_only_the_reseller_that_bills_an_account_or_one_above_it_acts_on_it_from_above(family, action, caller):
    client, world, _ = family
    method, tail, data = FROM_ABOVE[action]
    if "{entry}" in tail:
        tail = tail.format(entry=_manual_entry(client, world))
    before = _state(world)
    balance_before = _balance(client, world)
    kwargs = {"headers": {"X-Auth-Token": token(client, world, caller), "Idempotency-Key": f"k-{action}-{caller}"}}
    if data is not None:
        kwargs["json"] = {"data": data}
    result = client.simulate_request(method, f"/v2/accounts/{world.ids[CHILD]}/{tail}", **kwargs)
    if ALLOWED[caller]:
        assert result.status_code == DONE[action], result.json
    else:
        assert result.status_code == 403, result.json
        assert set(result.json["data"]) & {"account_id", *(data or {})}, result.json  # names what was refused
        assert _state(world) == before and _balance(client, world) == balance_before


def _balance(client, world) -> Decimal:
    answer = client.simulate_get(
        f"/v2/accounts/{world.ids[CHILD]}/ledgers/total", headers={"X-Auth-Token": token(client, world, "master")}
    )
    return Decimal(str(answer.json["data"]["amount"]))


@pytest.mark.parametrize(
    "caller, allowed",
    [("customer_two", True), (CHILD, True), ("reseller", True), ("sub", False), ("other_customer", False)],
)
def test_a_parent_that_is_not_a_reseller_still_reads_its_sub_accounts_ledgers(family, caller, allowed):
    client, world, _ = family
    headers = {"X-Auth-Token": token(client, world, caller)}
    for tail in ("ledgers/total", "ledgers", "onbill_pvt_limits", "service_plans"):
        result = client.simulate_get(f"/v2/accounts/{world.ids[CHILD]}/{tail}", headers=headers)
        assert result.status_code == (200 if allowed else 403), (tail, result.json)


def test_a_non_reseller_parent_sets_only_what_its_sub_account_may_set_itself(family):
    client, world, _ = family
    parent = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{world.ids[CHILD]}/onbill"
    assert client.simulate_patch(url, headers=parent, json={"data": {"language": "en-US"}}).status_code == 200
    refused = client.simulate_patch(url, headers=parent, json={"data": {"rate_deck": "cheap"}})
    assert refused.status_code == 403 and "rate_deck" in refused.json["data"]
    assert "rate_deck" not in world.store.get(account_db(world.ids[CHILD]), "onbill")


# The console's API: every new read, CSV included, under the same rule as the ledgers.
NEW_READS = [
    ("customers", {}),
    ("customers", {"format": "csv"}),
    ("summary", {}),
    ("revenue", {"month": "202611"}),
    ("billing_webhooks", {}),
    ("transactions", {"format": "csv"}),
    ("ledgers/per-minute-voip", {"format": "csv"}),
    ("onbills", {"format": "csv"}),
]


@pytest.mark.parametrize(
    "tail, params", NEW_READS, ids=[f"{t}{'-csv' if p.get('format') else ''}" for t, p in NEW_READS]
)
@pytest.mark.parametrize("caller, target, allowed", MATRIX)
def test_no_caller_reads_the_consoles_figures_or_exports_outside_its_tree(api, tail, params, caller, target, allowed):
    client, world, _ = api
    result = client.simulate_get(
        f"/v2/accounts/{world.ids[target]}/{tail}",
        params=params,
        headers={"X-Auth-Token": token(client, world, caller)},
    )
    if allowed:
        assert result.status_code != 403, (tail, result.text[:300])
    else:
        assert result.status_code == 403, (tail, result.text[:300])
        outside = {name for name in world.ids if name != target}
        assert not any(world.ids[name] in result.text for name in outside), "an answer refused names no other account"


def test_a_resellers_customer_list_never_holds_another_resellers_customers_csv_included(api):
    from bookkeeper.services.billing.account_pass import BillingPorts
    from bookkeeper.services.operations.account_batches import bill_accounts

    client, world, clock = api
    everyone = [world.ids[name] for name in ("sub", "customer", "customer_two", "other_reseller", "other_customer")]
    bill_accounts(BillingPorts(world.store, clock, world.world.design_docs), everyone)
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    url = f"/v2/accounts/{world.ids['reseller']}/customers"
    listed = client.simulate_get(url, headers=headers)
    as_csv = client.simulate_get(url, params={"format": "csv"}, headers=headers)
    assert listed.status_code == as_csv.status_code == 200
    assert {row["id"] for row in listed.json["data"]} == {world.ids[n] for n in ("sub", "customer", "customer_two")}
    for other in ("other_reseller", "other_customer", "master"):
        assert world.ids[other] not in listed.text and world.ids[other] not in as_csv.text
