"""PUT /v2/user_auth as a Kazoo client uses it: the account found by phone number, realm or
name (normalised as Kazoo normalises it), and the answer cb_user_auth gives. The expected
values are Kazoo's rules written out here (lower case and only a-z0-9 for names; E.164 by
Kazoo's default converters for numbers), not Kazbill's own lookups."""

from __future__ import annotations

import pytest

from bookkeeper.domain.kazoo_names import account_db
from testkit.fixtures.api_world import md5
from testkit.fixtures.kazoo_docs import stamp


def login(client, **where):
    username = where.pop("username")
    return client.simulate_put("/v2/user_auth", json={"data": {"credentials": md5(f"{username}:secret"), **where}})


@pytest.fixture
def taxis(api):
    """Two accounts whose names normalise alike ("Alpha Taxi", "alpha-taxi"), each with its own
    admin, and a number of the first in Kazoo's numbers database."""
    client, world, _ = api
    tree = [world.ids["master"], world.ids["reseller"]]
    first = world._account("alpha_taxi", tree)  # named "Alpha Taxi"
    second = world._account("alpha_taxi_two", tree)
    world.store.put("accounts", {**world.store.get("accounts", second), "name": "alpha-taxi"})
    world.store.ensure_database("numbers/+1415")
    world.store.put(
        "numbers/+1415",
        {
            "_id": "+14155551234",
            "pvt_assigned_to": first,
            "pvt_state": "in_service",
            "pvt_db_name": "numbers%2F%2B1415",
            "pvt_module_name": "knm_local",
        },
    )
    world.store.put("numbers/+1415", {"_id": "+14155550000", "pvt_assigned_to": first, "pvt_state": "available"})
    return client, world, first, second


@pytest.mark.parametrize("spelling", ["alphataxi", "Alpha Taxi", "ALPHA-TAXI", "alpha_taxi!", " alpha taxi "])
def test_an_account_name_is_found_however_it_is_spelled_once_normalised(taxis, spelling):
    client, world, first, _ = taxis
    result = login(client, username="admin-alpha_taxi", account_name=spelling)
    assert result.status_code == 201, result.json
    assert result.json["data"]["account_id"] == first


def test_two_accounts_whose_names_normalise_alike_are_both_tried(taxis):
    client, world, first, second = taxis
    assert login(client, username="admin-alpha_taxi", account_name="alphataxi").json["data"]["account_id"] == first
    assert login(client, username="admin-alpha_taxi_two", account_name="alphataxi").json["data"]["account_id"] == second


@pytest.mark.parametrize("number", ["+14155551234", "4155551234", "14155551234"])
def test_a_phone_number_names_the_account_it_is_assigned_to(taxis, number):
    client, world, first, _ = taxis
    result = login(client, username="admin-alpha_taxi", phone_number=number)
    assert result.status_code == 201, result.json
    assert result.json["data"]["account_id"] == first


def test_a_number_not_in_service_names_no_account_and_the_realm_or_name_given_with_it_is_tried(taxis):
    client, world, first, _ = taxis
    assert login(client, username="admin-alpha_taxi", phone_number="4155550000").status_code == 401
    assert login(client, username="admin-alpha_taxi", phone_number="4155559999").status_code == 401
    realm = world.store.get("accounts", first)["realm"]
    fallback = login(client, username="admin-alpha_taxi", phone_number="4155550000", account_realm=realm)
    assert fallback.status_code == 201 and fallback.json["data"]["account_id"] == first
    by_name = login(client, username="admin-alpha_taxi", phone_number="4155559999", account_name="Alpha Taxi")
    assert by_name.status_code == 201 and by_name.json["data"]["account_id"] == first


def test_an_account_realm_logs_in_in_any_case_and_the_older_realm_key_too(taxis):
    client, world, first, _ = taxis
    realm = world.store.get("accounts", first)["realm"]
    for where in ({"account_realm": realm.upper()}, {"realm": realm}):
        result = login(client, username="admin-alpha_taxi", **where)
        assert result.status_code == 201 and result.json["data"]["account_id"] == first, where


def test_the_answer_carries_the_reseller_the_language_and_the_apps_as_cb_user_auth_does(taxis):
    client, world, first, _ = taxis
    data = login(client, username="admin-alpha_taxi", account_name="alphataxi").json["data"]
    assert (data["reseller_id"], data["is_reseller"], data["is_master_account"]) == (
        world.ids["reseller"],
        False,
        False,
    )
    assert data["language"] == "ru-RU" and data["apps"] == []  # the account's language: the user has none
    assert data["account_name"] == "Alpha Taxi" and data["owner_id"]
    user = world.store.get(account_db(first), data["owner_id"])
    world.store.put(account_db(first), {**user, "language": "de-DE"})
    assert login(client, username="admin-alpha_taxi", account_name="alphataxi").json["data"]["language"] == "de-DE"
    account = world.store.get("accounts", first)
    world.store.put("accounts", {key: value for key, value in account.items() if key != "language"})
    world.store.put(account_db(first), {**world.store.get(account_db(first), data["owner_id"]), "language": None})
    assert login(client, username="admin-alpha_taxi", account_name="alphataxi").json["data"]["language"] == "en-us"


def test_a_reseller_and_the_master_are_told_so(api):
    client, world, _ = api
    reseller = login(client, username="boss", account_name="reseller").json["data"]
    assert (reseller["is_reseller"], reseller["reseller_id"], reseller["is_master_account"]) == (
        True,
        world.ids["master"],
        False,
    )
    master = login(client, username="root", account_name="master").json["data"]
    assert (master["is_master_account"], master["reseller_id"], master["is_superduper_admin"]) == (
        True,
        world.ids["master"],
        True,
    )
    by_key = client.simulate_put("/v2/api_auth", json={"data": {"api_key": "key-" + world.ids["customer"]}}).json[
        "data"
    ]
    assert by_key["reseller_id"] == world.ids["sub"] and "owner_id" not in by_key and by_key["apps"] == []


@pytest.mark.parametrize(
    "where, field",
    [
        ({"account_realm": "ab"}, "account_realm"),  # Kazoo's schema: 4 to 253 characters
        ({"account_realm": "has space.example"}, "account_realm"),
        ({"phone_number": 4155551234}, "phone_number"),
        ({"phone_number": ""}, "phone_number"),
        ({"account_name": "x" * 129}, "account_name"),
        ({"account_realm": "a.example", "realm": "a.example"}, "realm"),
        ({}, "account_name"),
    ],
)
def test_a_bad_way_to_name_the_account_is_400_naming_the_field(taxis, where, field):
    client, *_ = taxis
    result = login(client, username="admin-alpha_taxi", **where)
    assert result.status_code == 400 and field in result.json["data"], result.json


def test_a_number_document_in_kazoos_own_layout_is_read_where_kazoo_keeps_it(taxis):
    # knm_converters:to_db: the first five characters of the E.164 number, in `numbers/`.
    client, world, first, _ = taxis
    world.store.ensure_database("numbers/+7495")
    world.store.put(
        "numbers/+7495",
        stamp({"_id": "+74951234567", "pvt_assigned_to": first, "pvt_state": "port_in"}, first, "number"),
    )
    result = login(client, username="admin-alpha_taxi", phone_number="+74951234567")
    assert result.status_code == 201 and result.json["data"]["account_id"] == first
