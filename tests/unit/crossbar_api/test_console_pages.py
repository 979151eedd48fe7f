"""The resellers' console, through HTTP: a reseller logs in, finds a customer by name, opens it,
credits it with a reason (once, however often the form is sent), and reads the words in its
language; bad values are named and change nothing; nobody sees another reseller's customers."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from bookkeeper.domain.kazoo_names import account_db, gregorian_of
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.operations.account_batches import bill_accounts
from testkit.fixtures.api_world import MSK
from tests.unit.crossbar_api.test_api import token

BILLED = ("sub", "customer", "customer_two", "other_reseller", "other_customer")


@pytest.fixture
def console(api):
    client, world, clock = api
    world.world.add_devices(world.ids["customer_two"], 3)
    bill_accounts(BillingPorts(world.store, clock, world.world.design_docs), [world.ids[n] for n in BILLED])
    return client, world, clock


def log_in(client, account_name="Reseller", username="boss", password="secret", lang="en"):
    result = client.simulate_post(
        f"/console/login?lang={lang}",
        body=f"account_name={account_name}&username={username}&password={password}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    cookie = result.cookies.get("kazbill_console")
    return result, ({"Cookie": f"kazbill_console={cookie.value}"} if cookie else {})


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', html).group(1)


def posting_key(html: str) -> str:
    return re.search(r'name="key" value="([0-9a-f]+)"', html).group(1)


def balance(world, name) -> int:
    book = LedgerBook(world.store, world.world.design_docs)
    return book.current_balance(world.ids[name], gregorian_of(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)))


def test_a_reseller_logs_in_and_lands_on_its_customers_by_name(console):
    client, world, _ = console
    result, cookie = log_in(client)
    assert result.status_code == 303
    assert result.headers["location"] == f"/console/accounts/{world.ids['reseller']}/dashboard?lang=en"
    listing = f"/console/accounts/{world.ids['reseller']}/customers?lang=en"
    page = client.simulate_get(listing, headers=cookie)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    names = re.findall(r'<a href="/console/accounts/[0-9a-f]{32}\?lang=en">([^<]+)</a>', page.text)
    assert names == ["Customer", "Customer Two", "Sub"]
    assert "1 500,00" in page.text or "1,500.00" in page.text  # Customer Two's three phones a month
    found = client.simulate_get(listing + "&q=two", headers=cookie)
    assert re.findall(r'<a href="/console/accounts/[0-9a-f]{32}\?lang=en">([^<]+)</a>', found.text) == ["Customer Two"]
    csv = client.simulate_get(f"/console/accounts/{world.ids['reseller']}/customers.csv", headers=cookie)
    assert csv.status_code == 200 and csv.text.count("\r\n") == 4  # the header and three customers


def test_without_a_session_the_console_asks_to_log_in_and_a_bad_password_says_so(console):
    client, world, _ = console
    page = client.simulate_get(f"/console/accounts/{world.ids['reseller']}/customers")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    result, cookie = log_in(client, password="wrong")
    assert result.status_code == 401 and not cookie and 'id="error"' in result.text


@pytest.mark.parametrize("page", ["/console/login", "/portal/login"])
def test_a_sign_in_posted_from_another_site_is_refused_and_starts_no_session(console, page):
    # Login CSRF: another site's page posting its own credentials would sign the visitor in as
    # the attacker, and what the visitor then typed would land in the attacker's account.
    client, _, _ = console
    form = {
        "body": "account_name=Reseller&username=boss&password=secret",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    for origin in ("https://evil.example", "null"):
        refused = client.simulate_post(page, **{**form, "headers": {**form["headers"], "Origin": origin}})
        assert refused.status_code == 403 and "Origin" in refused.json["data"], refused.text[:300]
        assert not refused.cookies
    same_site = client.simulate_post(
        page, **{**form, "headers": {**form["headers"], "Origin": "http://falconframework.org"}}
    )
    assert same_site.status_code == 303 and same_site.cookies
    # Behind a proxy that passes Host without the browser's port (nginx's $host): still this site.
    proxied = client.simulate_post(
        page, **{**form, "headers": {**form["headers"], "Origin": "https://falconframework.org:8443"}}
    )
    assert proxied.status_code == 303


def test_a_credit_from_the_customer_page_is_posted_once_with_its_reason(console):
    client, world, _ = console
    _, cookie = log_in(client)
    customer = world.ids["customer_two"]
    page = client.simulate_get(f"/console/accounts/{customer}", params={"lang": "en"}, headers=cookie)
    assert page.status_code == 200 and "Customer Two" in page.text and 'id="services"' in page.text
    before = balance(world, "customer_two")
    form = (
        f"form_token={form_token(page.text)}&key={posting_key(page.text)}&direction=credit"
        "&amount=1250.50&reason=wire_transfer&description=Wire+42"
    )
    headers = {**cookie, "Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(2):  # the same form sent twice (a double click, a reload): posted once
        sent = client.simulate_post(f"/console/accounts/{customer}/ledgers?lang=en", body=form, headers=headers)
        assert sent.status_code == 303 and sent.headers["location"].endswith("done=credit")
    assert balance(world, "customer_two") - before == 12_505_000
    after = client.simulate_get(sent.headers["location"], headers=cookie)
    assert "The credit was posted." in after.text and "Wire 42" in after.text
    assert 'id="audit-clean"' in after.text  # the audit of the period's days, as GET .../audit answers it
    assert re.search(r'<ul id="notices">.*period_charged', after.text, re.S)  # the opening's notice, queued


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"direction": "steal"}, "direction"),
        ({"reason": "gift"}, "reason"),
    ],
)
def test_a_bad_posting_names_its_field_and_posts_nothing(console, changes, field):
    client, world, _ = console
    _, cookie = log_in(client)
    customer = world.ids["customer_two"]
    page = client.simulate_get(f"/console/accounts/{customer}", headers=cookie)
    values = {
        "form_token": form_token(page.text),
        "key": posting_key(page.text),
        "direction": "credit",
        "amount": "10",
        "reason": "wire_transfer",
        **changes,
    }
    before = balance(world, "customer_two")
    sent = client.simulate_post(
        f"/console/accounts/{customer}/ledgers",
        body="&".join(f"{k}={v}" for k, v in values.items()),
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 303 and "error=" in sent.headers["location"]
    shown = client.simulate_get(sent.headers["location"], headers=cookie)
    assert re.search(r'id="error">' + field, shown.text), shown.text[:2000]
    assert balance(world, "customer_two") == before


def test_a_post_without_the_form_token_or_from_below_changes_nothing(console):
    client, world, _ = console
    customer = world.ids["customer_two"]
    _, cookie = log_in(client)
    before = balance(world, "customer_two")
    sent = client.simulate_post(
        f"/console/accounts/{customer}/ledgers",
        body="direction=credit&amount=10&key=abc",
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 403
    _, own = log_in(client, "Customer Two", "admin-customer_two")
    page = client.simulate_get(f"/console/accounts/{customer}", headers=own)
    assert page.status_code == 200  # an account reads its own page
    sent = client.simulate_post(
        f"/console/accounts/{customer}/ledgers",
        body=f"form_token={form_token(page.text)}&key={posting_key(page.text)}&direction=credit&amount=10",
        headers={**own, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 403  # nobody credits itself
    assert balance(world, "customer_two") == before


def test_another_reseller_sees_none_of_these_customers(console):
    client, world, _ = console
    _, cookie = log_in(client, "Other Reseller", "admin-other_reseller")
    for path in (f"/console/accounts/{world.ids['reseller']}/customers", f"/console/accounts/{world.ids['customer']}"):
        assert client.simulate_get(path, headers=cookie).status_code == 403
    assert (
        client.simulate_get(f"/console/accounts/{world.ids['reseller']}/customers.csv", headers=cookie).status_code
        == 403
    )


@pytest.mark.parametrize(
    "lang, words", [("ru", ("Клиенты", "Найти", "Выгрузить CSV")), ("de", ("Kunden", "Suchen", "CSV exportieren"))]
)
def test_the_console_speaks_russian_and_german(console, lang, words):
    client, world, _ = console
    result, cookie = log_in(client, lang=lang)
    page = client.simulate_get(f"/console/accounts/{world.ids['reseller']}/customers?lang={lang}", headers=cookie)
    assert all(word in page.text for word in words), page.text[:3000]
    assert f'<html lang="{lang}">' in page.text


def test_logging_out_ends_the_session_everywhere(console):
    client, world, _ = console
    result, cookie = log_in(client)
    page = client.simulate_get(result.headers["location"], headers=cookie)
    out = client.simulate_post(
        "/console/logout",
        body=f"form_token={form_token(page.text)}",
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    again = client.simulate_get(result.headers["location"], headers=cookie)  # the old cookie, replayed
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")


def test_the_dashboard_adds_up_the_accounts_below_and_lists_what_waits_for_a_person(console):
    from bookkeeper.services.documents.document_queue import QUEUE_DB
    from bookkeeper.services.setup.failures import record_failure

    client, world, _ = console
    for name in ("customer_two", "other_customer"):
        record_failure(
            world.store,
            source="rating",
            reason_code="unrated_call",
            reason=f"no rate for a call of {name}",
            payload={"call_id": f"call-of-{name}"},
            account_id=world.ids[name],
            now_gregorian=63_960_000_000,
        )
    world.store.ensure_database(QUEUE_DB)
    world.store.put(
        QUEUE_DB,
        {
            "_id": "job-1",
            "pvt_type": "document_job",
            "account_id": world.ids["customer"],
            "state": "failed",
            "reason": "mail refused: 550 no such user",
            "pvt_created": 63_960_000_100,
        },
    )
    result, cookie = log_in(client)
    page = client.simulate_get(result.headers["location"], headers=cookie)
    assert page.status_code == 200, page.text[:2000]
    totals = re.search(r'<table id="totals">(.*?)</table>', page.text, re.S).group(1)
    rub = re.search(r"<tr><td>RUB</td>(.*?)</tr>", totals, re.S).group(1)
    cells = re.findall(r'<td class="amount">([^<]*)</td>', rub)
    # Below the reseller in roubles: Sub and Customer Two (Customer is billed by Sub, in its currency);
    # Customer Two's three phones at 500.00 a month; nobody delinquent or blocked; Sub owes nothing.
    assert cells[0] == "2" and "1,500.00" in cells[1] and cells[2:4] == ["0", "0"]
    by_category = re.search(r'<table id="by-category">(.*?)</table>', page.text, re.S).group(1)
    assert re.search(r"<td>RUB</td><td>Devices</td><td class=\"amount\">[^<]*1,500.00", by_category), by_category
    assert "no rate for a call of customer_two" in page.text
    assert "other_customer" not in page.text  # another reseller's failure
    assert "550 no such user" in page.text and "Failures waiting for a person (1)" in page.text


def _act(client, cookie, customer, name, **fields):
    page = client.simulate_get(f"/console/accounts/{customer}", headers=cookie)
    body = "&".join(f"{k}={v}" for k, v in {"form_token": form_token(page.text), **fields}.items())
    sent = client.simulate_post(
        f"/console/accounts/{customer}/actions/{name}?lang=en",
        body=body,
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 303, sent.text
    return sent.headers["location"], client.simulate_get(sent.headers["location"], headers=cookie).text


def test_the_customer_pages_terms_go_through_the_api_and_say_what_was_done(console):
    client, world, _ = console
    _, cookie = log_in(client)
    customer = world.ids["customer_two"]
    world.store.put(
        account_db(world.ids["reseller"]),
        {
            "_id": "plan_premium",
            "pvt_type": "service_plan",
            "name": "Premium",
            "plan": {"devices": {"sip_device": {"rate": 900}}},
        },
    )
    where, page = _act(client, cookie, customer, "limits", allow_postpay="true", max_postpay_amount="250,50")
    assert where.endswith("done=limits") and "The limits were saved." in page
    token_headers = {"X-Auth-Token": token(client, world, "reseller")}
    status = client.simulate_get(f"/v2/accounts/{customer}/billing_status", headers=token_headers).json["data"]
    assert status["credit_line"] == 250.5
    where, page = _act(client, cookie, customer, "plan", plan_id="plan_premium")
    assert where.endswith("done=plan"), where
    services = client.simulate_get(f"/v2/accounts/{customer}/services", headers=token_headers).json["data"]
    assert services["plan"]["id"] == "plan_premium" and services["estimated_monthly_cost"] == 2700  # 3 × 900
    assert "2,700.00" in page  # the page's estimate follows the new plan
    where, page = _act(client, cookie, customer, "block", block="true")
    assert where.endswith("done=block") and "Lift the manual block" in page


@pytest.mark.parametrize(
    "name, fields, field",
    [
        ("limits", {"allow_postpay": "true", "max_postpay_amount": "lots"}, "max_postpay_amount"),
        ("trial", {"trial": "extend", "days": "forever"}, "days"),
        ("plan", {"plan_id": "plan_nonexistent"}, "add"),
    ],
)
def test_a_refused_term_is_named_on_the_page_and_nothing_changes(console, name, fields, field):
    client, world, _ = console
    _, cookie = log_in(client)
    customer = world.ids["customer_two"]
    before = world.store.get(account_db(customer), "limits")
    where, page = _act(client, cookie, customer, name, **fields)
    assert "error=" in where and re.search(r'id="error">' + field, page), page[:1500]
    assert world.store.get(account_db(customer), "limits")["_rev"] == before["_rev"]
