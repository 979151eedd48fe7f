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


def save(client, cookie, reseller, **fields):
    page = client.simulate_get(f"/console/accounts/{reseller}/plans", headers=cookie)
    assert page.status_code == 200, page.text[:500]
    from urllib.parse import urlencode

    return client.simulate_post(
        f"/console/accounts/{reseller}/plans?lang=en",
        body=urlencode({"form_token": form_token(page.text), **fields}),
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )


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
