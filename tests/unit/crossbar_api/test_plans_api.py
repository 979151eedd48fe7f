"""Service plans through the API: a reseller's catalogue (.../onbill_service_plans) and the plans
assigned to an account (.../service_plans), on a throwaway embedded store."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import SERVICES_DB, account_db
from crossbar_api.resources.plans import PLAN_ROUTES
from tests.unit.crossbar_api.test_api import token

PRO = {
    "id": "plan_pro",
    "name": "Pro",
    "description": "Phones and users",
    "plan": {"devices": {"sip_device": {"rate": 12.5}}, "users": {"admin": {"rate": 3}}},
}


@pytest.fixture
def plans_api(api):
    client, world, _clock = api
    return client, world, world.store


class Caller:
    """Requests as one user, with the answer's data read exactly (Decimal)."""

    def __init__(self, client, world, who: str):
        self.client, self.world = client, world
        self.headers = {"X-Auth-Token": token(client, world, who)}

    def url(self, account: str, tail: str) -> str:
        return f"/v2/accounts/{self.world.ids[account]}/{tail}"

    def call(self, method: str, account: str, tail: str, data=None):
        kwargs = {"headers": self.headers}
        if data is not None:
            kwargs["json"] = {"data": data}
        return self.client.simulate_request(method, self.url(account, tail), **kwargs)


def data_of(result):
    return json.loads(result.text, parse_float=Decimal)["data"]


def assert_public(value):
    """No answer shows CouchDB's revision or a private field, at any depth of the top level."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        assert not any(key.startswith(("_", "pvt_")) for key in item), item


def test_a_reseller_creates_lists_reads_updates_and_deletes_a_plan(plans_api):
    client, world, store = plans_api
    boss = Caller(client, world, "reseller")
    created = boss.call("PUT", "reseller", "onbill_service_plans", PRO)
    assert created.status_code == 201, created.json
    assert data_of(created) == {
        **PRO,
        "plan": {"devices": {"sip_device": {"rate": Decimal("12.5")}}, "users": {"admin": {"rate": 3}}},
    }
    assert '"rate":12.5' in created.text  # the plan's numbers as they were sent, in currency units
    assert_public(data_of(created))
    stored = store.get(account_db(world.ids["reseller"]), "plan_pro")
    assert stored["pvt_type"] == "service_plan" and stored["plan"]["devices"]["sip_device"]["rate"] == 12.5

    listed = boss.call("GET", "reseller", "onbill_service_plans")
    assert listed.status_code == 200
    assert [(p["id"], p["name"]) for p in data_of(listed)] == [("plan_office", "Office"), ("plan_pro", "Pro")]
    assert_public(data_of(listed))

    one = boss.call("GET", "reseller", "onbill_service_plans/plan_pro")
    assert one.status_code == 200 and data_of(one)["description"] == "Phones and users"
    assert_public(data_of(one))

    changed = boss.call(
        "POST",
        "reseller",
        "onbill_service_plans/plan_pro",
        {"name": "Pro 2027", "plan": {"devices": {"sip_device": {"rate": 15, "minimum": 2}}}},
    )
    assert changed.status_code == 200, changed.json
    assert data_of(changed) == {
        "id": "plan_pro",
        "name": "Pro 2027",
        "description": "",
        "plan": {"devices": {"sip_device": {"rate": 15, "minimum": 2}}},
    }
    again = store.get(account_db(world.ids["reseller"]), "plan_pro")
    assert again["pvt_created"] == stored["pvt_created"] and again["pvt_account_id"] == world.ids["reseller"]
    assert again["_rev"] != stored["_rev"]

    assert boss.call("PUT", "reseller", "onbill_service_plans", PRO).status_code == 409  # the id is taken

    deleted = boss.call("DELETE", "reseller", "onbill_service_plans/plan_pro")
    assert deleted.status_code == 200 and data_of(deleted)["deleted"] is True
    assert store.get(account_db(world.ids["reseller"]), "plan_pro")["pvt_deleted"] is True  # soft-deleted
    assert boss.call("GET", "reseller", "onbill_service_plans/plan_pro").status_code == 404
    assert boss.call("POST", "reseller", "onbill_service_plans/plan_pro", PRO).status_code == 404
    assert [p["id"] for p in data_of(boss.call("GET", "reseller", "onbill_service_plans"))] == ["plan_office"]


def test_a_plan_without_an_id_gets_one_and_documents_that_are_not_plans_are_not_shown(plans_api):
    client, world, _ = plans_api
    boss = Caller(client, world, "reseller")
    created = boss.call("PUT", "reseller", "onbill_service_plans", {"name": "Basic", "plan": {}})
    assert created.status_code == 201
    plan_id = data_of(created)["id"]
    assert len(plan_id) == 32 and boss.call("GET", "reseller", f"onbill_service_plans/{plan_id}").status_code == 200
    for other in ("onbill", "limits", world.ids["reseller"], "_all_docs", "nothing-here"):
        missing = boss.call("GET", "reseller", f"onbill_service_plans/{other}")
        assert missing.status_code == 404 and "plan_id" in missing.json["data"], other
    taken = boss.call("PUT", "reseller", "onbill_service_plans", {"id": "onbill", "name": "X", "plan": {}})
    assert taken.status_code == 409 and "id" in taken.json["data"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({**PRO, "plan": {"devices": {"sip_device": {"rate": -1}}}}, "plan.devices.sip_device.rate"),
        ({**PRO, "plan": {"devices": {"sip_device": {"rate": "five"}}}}, "plan.devices.sip_device.rate"),
        ({**PRO, "plan": {"devices": {"sip_device": {"name": "no price"}}}}, "plan.devices.sip_device.rate"),
        ({**PRO, "plan": {"devcies": {"sip_device": {"rate": 5}}}}, "plan.devcies"),
        ({**PRO, "plan": {"users": {"admin": {"rate": 1, "minimum": 1.5}}}}, "plan.users.admin.minimum"),
        ({**PRO, "plan": []}, "plan"),
        ({key: value for key, value in PRO.items() if key != "plan"}, "plan"),
        ({**PRO, "name": ""}, "name"),
        ({**PRO, "description": 7}, "description"),
        ({**PRO, "id": "Has Spaces"}, "id"),
        ({**PRO, "id": "available"}, "id"),
        ({**PRO, "pvt_type": "service_plan"}, "pvt_type"),
        ({**PRO, "colour": "blue"}, "colour"),
    ],
)
def test_a_broken_plan_is_400_naming_the_field_and_saves_nothing(plans_api, data, field):
    client, world, store = plans_api
    boss = Caller(client, world, "reseller")
    result = boss.call("PUT", "reseller", "onbill_service_plans", data)
    assert result.status_code == 400 and field in result.json["data"], result.json
    assert [p["id"] for p in data_of(boss.call("GET", "reseller", "onbill_service_plans"))] == ["plan_office"]
    before = store.get(account_db(world.ids["reseller"]), "plan_office")
    replaced = boss.call(
        "POST",
        "reseller",
        "onbill_service_plans/plan_office",
        {**{k: v for k, v in data.items() if k != "id"}, "name": data.get("name", "Office")}
        if field != "id"
        else {**data, "id": "plan_other"},
    )
    assert replaced.status_code == 400, replaced.json
    assert store.get(account_db(world.ids["reseller"]), "plan_office") == before


def test_a_number_a_plan_cannot_store_exactly_is_refused_not_rounded(plans_api):
    client, world, _ = plans_api
    boss = Caller(client, world, "reseller")
    body = '{"data": {"id": "huge", "name": "Huge", "plan": {"users": {"admin": {"rate": 12345678901234567.5}}}}}'
    result = client.simulate_put(
        boss.url("reseller", "onbill_service_plans"),
        body=body,
        headers={**boss.headers, "Content-Type": "application/json"},
    )
    assert result.status_code == 400 and "plan.users.admin.rate" in result.json["data"], result.json
    assert boss.call("GET", "reseller", "onbill_service_plans/huge").status_code == 404


@pytest.mark.parametrize(
    "who, account, status",
    [
        ("customer", "customer", 403),  # not a reseller: no catalogue
        ("clerk", "customer", 403),  # not an admin either
        ("sub", "reseller", 403),  # below the reseller
        ("other_reseller", "reseller", 403),  # a sibling
        ("sub", "sub", 201),  # a reseller's own catalogue
        ("reseller", "sub", 201),  # from above
        ("master", "reseller", 201),
    ],
)
def test_only_a_reseller_or_an_account_above_it_adds_plans_to_its_catalogue(plans_api, who, account, status):
    client, world, _ = plans_api
    result = Caller(client, world, who).call("PUT", account, "onbill_service_plans", PRO)
    assert result.status_code == status, result.json


def test_a_sibling_reseller_cannot_see_the_resellers_catalogue(plans_api):
    client, world, _ = plans_api
    rival = Caller(client, world, "other_reseller")
    for tail in ("onbill_service_plans", "onbill_service_plans/plan_office"):
        result = rival.call("GET", "reseller", tail)
        assert result.status_code == 403 and result.json["status"] == "error", tail
    assert rival.call("DELETE", "reseller", "onbill_service_plans/plan_office").status_code == 403
    assert rival.call("GET", "customer_two", "service_plans/available").status_code == 403


def test_assigning_from_above_prices_the_account_with_the_new_plan(plans_api):
    client, world, store = plans_api
    sub, boss, customer = (Caller(client, world, who) for who in ("sub", "reseller", "customer"))
    # The customer's reseller is the sub-reseller: its plans come from the sub's catalogue.
    assert (
        sub.call(
            "PUT",
            "sub",
            "onbill_service_plans",
            {"id": "sub_basic", "name": "Sub Basic", "plan": {"devices": {"sip_device": {"rate": 7.25}}}},
        ).status_code
        == 201
    )
    world.world.add_devices(world.ids["customer"], 2)
    assert data_of(customer.call("GET", "customer", "service_plans")) == []  # the sub has no default plan
    available = customer.call("GET", "customer", "service_plans/available")
    assert available.status_code == 200 and [p["id"] for p in data_of(available)] == ["sub_basic"]
    assert data_of(customer.call("GET", "customer", "services"))["items"] == []

    assigned = boss.call("POST", "customer", "service_plans/sub_basic")
    assert assigned.status_code == 200, assigned.json
    expected = [{"id": "sub_basic", "name": "Sub Basic", "account_id": world.ids["sub"], "default": False}]
    assert data_of(assigned) == expected
    services = store.get(SERVICES_DB, world.ids["customer"])
    assert services["plans"] == {"sub_basic": {"account_id": world.ids["sub"]}}
    assert services["pvt_reseller"] is False and services["pvt_type"] == "service"  # other fields kept
    assert data_of(sub.call("POST", "customer", "service_plans/sub_basic")) == expected  # idempotent
    assert store.get(SERVICES_DB, world.ids["customer"])["_rev"] == services["_rev"]
    assert data_of(customer.call("GET", "customer", "service_plans")) == expected

    priced = data_of(customer.call("GET", "customer", "services"))
    assert priced["plan"] == {"id": "sub_basic", "name": "Sub Basic"}
    assert [(i["item"], i["quantity"], i["rate"], i["monthly_cost"]) for i in priced["items"]] == [
        ("sip_device", 2, Decimal("7.25"), Decimal("14.5"))
    ]
    assert priced["estimated_monthly_cost"] == Decimal("14.5")


def test_assigning_creates_the_services_document_when_there_is_none(plans_api):
    client, world, store = plans_api
    services = store.get(SERVICES_DB, world.ids["customer_two"])
    store.delete(SERVICES_DB, services["_id"], services["_rev"])
    boss = Caller(client, world, "reseller")
    assert boss.call("POST", "customer_two", "service_plans/plan_office").status_code == 200
    created = store.get(SERVICES_DB, world.ids["customer_two"])
    assert created["pvt_type"] == "service" and created["plans"] == {
        "plan_office": {"account_id": world.ids["reseller"]}
    }


def test_the_resellers_default_plan_is_listed_when_none_is_assigned(plans_api):
    client, world, _ = plans_api
    listed = Caller(client, world, "reseller").call("GET", "customer_two", "service_plans")
    assert data_of(listed) == [
        {"id": "plan_office", "name": "Office", "account_id": world.ids["reseller"], "default": True}
    ]


@pytest.mark.parametrize(
    "who, account",
    [
        ("customer", "customer"),  # nobody assigns itself a plan
        ("clerk", "customer"),
        ("customer_two", "customer"),  # nor a sibling's
        ("other_reseller", "customer_two"),
    ],
)
def test_an_account_cannot_assign_plans_to_itself_or_outside_its_tree(plans_api, who, account):
    client, world, store = plans_api
    before = store.get(SERVICES_DB, world.ids[account])
    caller = Caller(client, world, who)
    assert caller.call("POST", account, "service_plans/plan_office").status_code == 403
    assert caller.call("DELETE", account, "service_plans/plan_office").status_code == 403
    assert store.get(SERVICES_DB, world.ids[account]) == before


def test_assigning_a_plan_of_another_reseller_is_404_naming_the_plan(plans_api):
    client, world, store = plans_api
    boss, master = Caller(client, world, "reseller"), Caller(client, world, "master")
    # plan_office is in the reseller's catalogue, but the customer's reseller is the sub-reseller.
    wrong = boss.call("POST", "customer", "service_plans/plan_office")
    assert wrong.status_code == 404 and "plan_id" in wrong.json["data"]
    assert (
        Caller(client, world, "other_reseller")
        .call("PUT", "other_reseller", "onbill_service_plans", {"id": "rival", "name": "Rival", "plan": {}})
        .status_code
        == 201
    )
    assert master.call("POST", "customer_two", "service_plans/rival").status_code == 404
    assert master.call("POST", "customer_two", "service_plans/no_such_plan").status_code == 404
    assert "plans" not in store.get(SERVICES_DB, world.ids["customer"])
    assert "plans" not in store.get(SERVICES_DB, world.ids["customer_two"])


def test_an_assigned_plan_cannot_be_deleted_until_it_is_unassigned(plans_api):
    client, world, store = plans_api
    boss = Caller(client, world, "reseller")
    assert boss.call("PUT", "reseller", "onbill_service_plans", PRO).status_code == 201
    assert boss.call("POST", "customer_two", "service_plans/plan_pro").status_code == 200

    refused = boss.call("DELETE", "reseller", "onbill_service_plans/plan_pro")
    assert (
        refused.status_code == 409
        and world.ids["customer_two"] in refused.json["data"]["plan_id"]["assigned"]["message"]
    )
    assert boss.call("GET", "reseller", "onbill_service_plans/plan_pro").status_code == 200
    default = boss.call("DELETE", "reseller", "onbill_service_plans/plan_office")
    assert default.status_code == 409 and "default" in default.json["data"]["plan_id"]  # the onbill default

    unassigned = boss.call("DELETE", "customer_two", "service_plans/plan_pro")
    assert unassigned.status_code == 200 and [p["id"] for p in data_of(unassigned)] == ["plan_office"]
    assert data_of(unassigned)[0]["default"] is True
    assert store.get(SERVICES_DB, world.ids["customer_two"])["plans"] == {}
    assert boss.call("DELETE", "customer_two", "service_plans/plan_pro").status_code == 200  # idempotent

    assert boss.call("DELETE", "reseller", "onbill_service_plans/plan_pro").status_code == 200
    assert boss.call("POST", "customer_two", "service_plans/plan_pro").status_code == 404  # deleted plans
    assert [p["id"] for p in data_of(boss.call("GET", "customer_two", "service_plans/available"))] == ["plan_office"]


def test_plan_routes_match_the_route_table_fields(plans_api):
    for path, make, summary, body in PLAN_ROUTES:
        assert path.startswith("/v2/accounts/{account_id}/") and callable(make) and summary
        assert body is None or all(kind in ("string", "object", "array") for kind in body.values())


def test_catalogues_and_assignments_come_from_their_views(plans_api):
    client, world, _ = plans_api
    boss = Caller(client, world, "reseller")
    for n in range(5):
        assert boss.call("PUT", "reseller", "onbill_service_plans", {**PRO, "id": f"plan_{n}"}).status_code == 201
    listed = [p["id"] for p in data_of(boss.call("GET", "reseller", "onbill_service_plans"))]
    assert listed == ["plan_0", "plan_1", "plan_2", "plan_3", "plan_4", "plan_office"]
    assert boss.call("POST", "customer_two", "service_plans/plan_3").status_code == 200
    assert boss.call("DELETE", "reseller", "onbill_service_plans/plan_3").status_code == 409
