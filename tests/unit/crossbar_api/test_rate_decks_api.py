"""Rate decks over the API: a reseller uploads CSV, all or nothing, and asks what a call costs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.crossbar_api.test_api import token

DECK = (
    "prefix,rate_cost,rate_increment,rate_minimum,rate_name,direction\n"
    "7495,0.90,6,30,Moscow,outbound\n"
    "7,2.00,60,60,Russia,\n"
)


def put_deck(client, world, who, body, deck="retail", account=None, content_type="text/csv"):
    return client.simulate_put(
        f"/v2/accounts/{world.ids[account or who]}/rate_decks/{deck}",
        body=body,
        headers={"X-Auth-Token": token(client, world, who), "Content-Type": content_type},
    )


def test_a_reseller_uploads_a_deck_and_prices_a_call(api):
    client, world, _ = api
    saved = put_deck(client, world, "reseller", DECK)
    assert saved.status_code == 200 and saved.json["data"] == {"deck": "retail", "rates": 2, "removed": 0}
    priced = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/rate_decks/retail/rate",
        params={"number": "+74951234567", "seconds": "31", "direction": "outbound"},
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    data = priced.json["data"]
    assert (data["rate"]["name"], data["billed_seconds"], Decimal(str(data["cost"]))) == ("Moscow", 36, Decimal("0.54"))
    again = put_deck(client, world, "reseller", "prefix,rate_cost\n7,1.50\n")
    assert again.json["data"] == {"deck": "retail", "rates": 1, "removed": 1}
    gone = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/rate_decks/retail/rate",
        params={"number": "4420", "seconds": "60"},
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert gone.status_code == 404 and "unrated" in gone.json["data"]["number"]["rate"]["message"]


def test_a_deck_with_bad_lines_is_refused_whole_naming_each_line(api):
    client, world, _ = api
    put_deck(client, world, "reseller", DECK)
    refused = put_deck(client, world, "reseller", "prefix,rate_cost\n7495,0.50\n7x,1\n8,cheap\n")
    assert refused.status_code == 400 and set(refused.json["data"]) == {"line 3.prefix", "line 4.rate_cost"}
    kept = client.simulate_get(
        f"/v2/accounts/{world.ids['reseller']}/rate_decks/retail/rate",
        params={"number": "74951234567", "seconds": "60", "direction": "outbound"},
        headers={"X-Auth-Token": token(client, world, "reseller")},
    )
    assert kept.json["data"]["rate"]["name"] == "Moscow"  # the old deck is untouched


@pytest.mark.parametrize(
    "who, account, deck, content_type, status",
    [
        ("customer_two", "reseller", "retail", "text/csv", 403),  # a customer never writes its reseller's deck
        ("other_reseller", "reseller", "retail", "text/csv", 403),
        ("reseller", "customer_two", "retail", "text/csv", 404),  # not a reseller
        ("reseller", None, "Bad Name", "text/csv", 400),
        ("reseller", None, "retail", "application/json", 415),
    ],
)
def test_who_may_upload_and_what(api, who, account, deck, content_type, status):
    client, world, _ = api
    assert (
        put_deck(client, world, who, DECK, deck=deck, account=account, content_type=content_type).status_code == status
    )
