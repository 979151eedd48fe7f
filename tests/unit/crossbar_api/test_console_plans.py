"""The console's plans editor: a reseller changes a plan's prices and the customers on it are
estimated at the new ones; a price list the API refuses is shown with each field named and the
text as typed, and nothing is saved; a new plan is added."""

from __future__ import annotations

import json
import re

from bookkeeper.domain.kazoo_names import account_db
from tests.unit.crossbar_api import test_console_pages
from tests.unit.crossbar_api.test_api import token
from tests.unit.crossbar_api.test_console_pages import form_token, log_in

console = test_console_pages.console  # the fixture: a billed world and its API


def post_form(client, cookie, url: str, page_text: str, fields: dict):
    """`fields` posted to `url` as the page's form, with the page's form token."""
    from urllib.parse import urlencode

    return client.simulate_post(
        url,
        body=urlencode({"form_token": form_token(page_text), **fields}),
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )


def save(client, cookie, reseller, **fields):
    page = client.simulate_get(f"/console/accounts/{reseller}/plans", headers=cookie)
    assert page.status_code == 200, page.text[:500]
    return post_form(client, cookie, f"/console/accounts/{reseller}/plans?lang=en", page.text, fields)


def test_a_new_price_moves_the_estimate_of_the_customers_on_the_plan(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    page = client.simulate_get(f"/console/accounts/{reseller}/plans", headers=cookie)
    assert 'id="plan-plan_office"' in page.text and "&#34;sip_device&#34;" in page.text
    sent = save(
        client,
        cookie,
        reseller,
        plan_id="plan_office",
        name="Office",
        plan=json.dumps({"devices": {"sip_device": {"rate": 650}}}),
    )
    assert sent.status_code == 303 and "done=plan_office" in sent.headers["location"]
    services = client.simulate_get(
        f"/v2/accounts/{customer}/services", headers={"X-Auth-Token": token(client, world, "reseller")}
    ).json["data"]
    assert services["estimated_monthly_cost"] == 1950  # 3 phones at 650.00


def test_a_refused_price_list_is_shown_with_each_field_and_nothing_is_saved(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    before = world.store.get(account_db(reseller), "plan_office")["_rev"]
    typed = json.dumps({"devices": {"sip_device": {"rate": -5}}})
    refused = save(client, cookie, reseller, plan_id="plan_office", name="Office", plan=typed)
    assert refused.status_code == 400
    section = re.search(r'<section id="plan-plan_office">(.*?)</section>', refused.text, re.S).group(1)
    assert re.search(r"<li>plan\.devices\.sip_device\.rate: ", section), section
    assert "-5" in section  # the text as typed stays in the form
    broken = save(client, cookie, reseller, plan_id="plan_office", name="Office", plan="{devices: 1")
    assert broken.status_code == 400 and "plan: not JSON" in broken.text
    after = world.store.get(account_db(reseller), "plan_office")["_rev"]
    assert after == before


def test_a_new_plan_is_added_to_the_catalogue(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    sent = save(
        client,
        cookie,
        reseller,
        plan_id="",
        id="plan_trunks",
        name="Trunks",
        plan=json.dumps({"limits": {"twoway_trunks": {"rate": 700}}}),
    )
    assert sent.status_code == 303, sent.text[:2000]
    page = client.simulate_get(sent.headers["location"], headers=cookie)
    assert 'id="plan-plan_trunks"' in page.text and "Saved: plan_trunks" in page.text


def price_form(client, cookie, reseller, plan_id, **typed):
    """The plan's price form as the page fills it, with `typed` over it (row{n}_field=...), posted."""

    url = f"/console/accounts/{reseller}/plans/{plan_id}?lang=en"
    page = client.simulate_get(url, headers=cookie)
    assert page.status_code == 200, page.text[:1000]
    fields = dict(
        re.findall(r'<input (?:type="hidden" )?name="(row\d+_[a-z_]+|rows|id|name)"[^>]*? value="([^"]*)"', page.text)
    )
    fields.update(
        {name: "on" for name in re.findall(r'<input type="checkbox" name="(row\d+_[a-z_]+)" checked>', page.text)}
    )
    for name, value in typed.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return post_form(client, cookie, url, page.text, fields)


def test_prices_are_changed_row_by_row_an_item_added_and_what_the_rows_do_not_ask_is_kept(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    db = account_db(reseller)
    plan = world.store.get(db, "plan_office")
    names = {"ru": "Настольный телефон"}
    plan["plan"]["devices"]["sip_device"]["names"] = names
    world.store.put(db, plan)
    page = client.simulate_get(f"/console/accounts/{reseller}/plans/plan_office", headers=cookie).text
    assert (
        'name="row0_item" value="sip_device"' in page and "also kept: names (ru: Настольный телефон)" in page
    )  # kept, and said so
    sent = price_form(
        client,
        cookie,
        reseller,
        "plan_office",
        row0_rate="650",
        row0_name="Desk phone",
        row1_category="users",
        row1_item="admin",
        row1_rate="99.50",
    )
    assert sent.status_code == 303 and "done=plan_office" in sent.headers["location"], sent.text[-1500:]
    stored = world.store.get(db, "plan_office")["plan"]
    assert stored["devices"]["sip_device"]["rate"] == 650 and stored["devices"]["sip_device"]["names"] == names
    assert stored["devices"]["sip_device"]["name"] == "Desk phone"
    assert str(stored["users"]["admin"]["rate"]) == "99.5"
    services = client.simulate_get(
        f"/v2/accounts/{customer}/services", headers={"X-Auth-Token": token(client, world, "reseller")}
    ).json["data"]
    assert services["estimated_monthly_cost"] == 2049.5  # 3 phones at 650.00 and its admin at 99.50
    emptied = price_form(client, cookie, reseller, "plan_office", row1_category="", row1_item="")
    assert emptied.status_code == 303 and "users" not in world.store.get(db, "plan_office")["plan"]


def test_a_refused_price_is_named_in_its_row_with_the_text_kept_and_nothing_saved(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    before = world.store.get(account_db(reseller), "plan_office")["_rev"]
    refused = price_form(client, cookie, reseller, "plan_office", row0_rate="a lot")
    assert refused.status_code == 400 and re.search(r'id="e-row0_rate">[^<]+', refused.text), refused.text[-2000:]
    assert 'value="a lot"' in refused.text
    unknown = price_form(
        client, cookie, reseller, "plan_office", row1_category="spaceships", row1_item="x", row1_rate="1"
    )
    assert unknown.status_code == 400 and 'id="e-row1_category"' in unknown.text
    assert world.store.get(account_db(reseller), "plan_office")["_rev"] == before
    missing = client.simulate_get(f"/console/accounts/{reseller}/plans/no_such_plan", headers=cookie)
    assert missing.status_code == 404


def test_a_new_plan_is_made_price_by_price(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    sent = price_form(
        client,
        cookie,
        reseller,
        "new",
        id="plan_trunks",
        name="Trunks",
        row0_category="limits",
        row0_item="twoway_trunks",
        row0_rate="300",
    )
    assert sent.status_code == 303 and "done=plan_trunks" in sent.headers["location"], sent.text[-1500:]
    stored = world.store.get(account_db(reseller), "plan_trunks")
    assert stored["name"] == "Trunks" and stored["plan"]["limits"]["twoway_trunks"]["rate"] == 300


def test_a_plan_of_many_items_is_saved_whole_from_its_form(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    db = account_db(reseller)
    plan = world.store.get(db, "plan_office")
    plan["plan"] = {
        "devices": {kind: {"rate": 100 + n} for n, kind in enumerate(("sip_device", "softphone", "fax", "mobile"))},
        "users": {level: {"rate": 50} for level in ("admin", "user", "operator")},
        "phone_numbers": {kind: {"rate": 300} for kind in ("did", "tollfree", "local", "mobile")},
    }
    world.store.put(db, plan)
    sent = price_form(client, cookie, reseller, "plan_office", row0_rate="111")  # 11 items, 14 rows: ~130 fields
    assert sent.status_code == 303, sent.text[-1500:]
    stored = world.store.get(db, "plan_office")["plan"]
    assert stored["devices"]["sip_device"]["rate"] == 111 and len(stored["phone_numbers"]) == 4
