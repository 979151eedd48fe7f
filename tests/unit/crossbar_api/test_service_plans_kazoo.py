"""Service plans as a Kazoo 4.x client uses them: GET .../service_plans/{id} and the bulk
POST .../service_plans {"add": [...], "delete": [...]} (cb_service_plans in 4.2, cb_services in
4.3), from above only, all or nothing."""

from __future__ import annotations

import pytest

from bookkeeper.domain.kazoo_names import SERVICES_DB, account_db
from tests.unit.crossbar_api.test_plans_api import PRO, Caller, data_of


@pytest.fixture
def catalogue(api):
    client, world, _ = api
    boss = Caller(client, world, "reseller")
    assert boss.call("PUT", "reseller", "onbill_service_plans", PRO).status_code == 201
    world.store.put(
        account_db(world.ids["reseller"]),
        {
            **world.store.get(account_db(world.ids["reseller"]), "plan_pro"),
            "category": "phones",
            "bookkeepers": {"local": {}},
        },
    )  # Kazoo fields Kazbill does not read are shown as they are
    return client, world, boss


def test_a_plan_is_read_by_id_from_the_account_itself_or_from_its_resellers_catalogue(catalogue):
    client, world, boss = catalogue
    own = boss.call("GET", "reseller", "service_plans/plan_pro")
    assert own.status_code == 200, own.json
    assert data_of(own)["id"] == "plan_pro" and data_of(own)["category"] == "phones"
    assert data_of(own)["plan"]["devices"]["sip_device"]["rate"] == PRO["plan"]["devices"]["sip_device"]["rate"]
    assert not [key for key in own.json["data"] if key.startswith(("_", "pvt_"))]
    customer = Caller(client, world, "customer_two")  # priced from the reseller's catalogue
    assert data_of(customer.call("GET", "customer_two", "service_plans/plan_office"))["name"] == "Office"
    missing = customer.call("GET", "customer_two", "service_plans/no_such_plan")
    assert missing.status_code == 404 and "plan_id" in missing.json["data"]
    rival = Caller(client, world, "other_reseller")
    assert rival.call("GET", "reseller", "service_plans/plan_pro").status_code == 403


def test_plans_are_added_and_deleted_at_once_in_kazoos_bulk_body(catalogue):
    client, world, boss = catalogue
    assert boss.call("POST", "customer_two", "service_plans/plan_office").status_code == 200
    result = boss.call("POST", "customer_two", "service_plans", {"add": ["plan_pro"], "delete": ["plan_office"]})
    assert result.status_code == 200, result.json
    assert data_of(result) == [{"id": "plan_pro", "name": "Pro", "account_id": world.ids["reseller"], "default": False}]
    assert world.store.get(SERVICES_DB, world.ids["customer_two"])["plans"] == {
        "plan_pro": {"account_id": world.ids["reseller"]}
    }
    # Kazoo 4.3's spelling: `plans` for `add`, each an object naming the plan.
    again = boss.call("POST", "customer_two", "service_plans", {"plans": [{"id": "plan_office"}]})
    assert [plan["id"] for plan in data_of(again)] == ["plan_office", "plan_pro"]
    quiet = boss.call("POST", "customer_two", "service_plans", {"delete": ["never_assigned"]})
    assert quiet.status_code == 200 and len(data_of(quiet)) == 2


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"add": ["plan_pro", "no_such_plan"]}, 404, "add.1"),
        ({"add": "plan_pro"}, 400, "add"),
        ({"add": [7]}, 400, "add.0"),
        ({"add": [{"id": "plan_pro", "overrides": {}}]}, 400, "add.0.overrides"),
        ({"add": ["plan_pro"], "delete": ["plan_pro"]}, 400, "delete"),
        ({"add": ["plan_pro"], "plans": ["plan_office"]}, 400, "plans"),
        ({"delete": [None]}, 400, "delete.0"),
        ({"replace": ["plan_pro"]}, 400, "replace"),
    ],
)
def test_a_bad_bulk_change_names_its_field_and_changes_nothing(catalogue, body, status, field):
    client, world, boss = catalogue
    before = world.store.get(SERVICES_DB, world.ids["customer_two"])
    result = boss.call("POST", "customer_two", "service_plans", body)
    assert result.status_code == status and field in result.json["data"], result.json
    assert world.store.get(SERVICES_DB, world.ids["customer_two"]) == before


@pytest.mark.parametrize("who", ["customer_two", "sub", "other_reseller", "clerk"])
def test_only_from_above_may_change_plans_in_bulk(catalogue, who):
    client, world, _ = catalogue
    target = "customer" if who == "clerk" else "customer_two"
    before = world.store.get(SERVICES_DB, world.ids[target])
    result = Caller(client, world, who).call("POST", target, "service_plans", {"add": ["plan_office"]})
    assert result.status_code == 403, result.json
    assert world.store.get(SERVICES_DB, world.ids[target]) == before
