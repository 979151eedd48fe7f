"""The payments page through falcon's TestClient on an embedded store: log in, see the
balance and the period, in English and Russian; no session, no page; no form token, no change."""

from __future__ import annotations

import re

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from tests.unit.crossbar_api.test_api import token


def log_in(client, account_name="Customer Two", username="admin-customer_two", password="secret"):
    return client.simulate_post(
        "/portal/login",
        body=f"account_name={account_name}&username={username}&password={password}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def session_cookie(answer) -> dict[str, str]:
    return {"Cookie": f"kazbill_portal={answer.cookies['kazbill_portal'].value}"}


def page_form(client, customer) -> tuple[str, dict[str, str]]:
    """Log in, open the page, and return its form token with the headers a form post carries."""
    login = log_in(client)
    page = client.simulate_get(f"/portal/accounts/{customer}", headers=session_cookie(login))
    form_token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text)[1]
    return form_token, {**session_cookie(login), "Content-Type": "application/x-www-form-urlencoded"}


def test_an_admin_logs_in_and_sees_the_balance_and_the_period(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        body='{"data": {"amount": 250.50}}',
        headers={"X-Auth-Token": token(client, world, "reseller"), "Idempotency-Key": "wire-1"},
    )
    login = log_in(client)
    assert login.status_code == 303 and login.headers["location"].startswith(f"/portal/accounts/{customer}")
    cookie = login.cookies["kazbill_portal"]
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/portal"
    page = client.simulate_get(f"/portal/accounts/{customer}", headers=session_cookie(login))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert re.search(r'id="balance">\s*RUB\s*250\.50|id="balance">₽250\.50', page.text), page.text[:3000]
    assert "wire_transfer wire-1" in page.text or "wire-1" in page.text
    russian = client.simulate_get(f"/portal/accounts/{customer}", params={"lang": "ru"}, headers=session_cookie(login))
    assert "Баланс" in russian.text and "250,50" in russian.text


def test_without_a_session_the_page_sends_to_the_login_and_a_wrong_password_is_refused(api):
    client, world, _ = api
    assert client.simulate_get(f"/portal/accounts/{world.ids['customer_two']}").headers["location"] == "/portal/login"
    assert client.simulate_get("/portal").headers["location"] == "/portal/login"
    wrong = log_in(client, password="guess")
    assert wrong.status_code == 401 and 'id="error"' in wrong.text and "kazbill_portal" not in wrong.cookies


def test_a_page_of_another_tree_is_forbidden_and_a_post_without_the_form_token_changes_nothing(api):
    client, world, _ = api
    login = log_in(client)
    other = client.simulate_get(f"/portal/accounts/{world.ids['other_customer']}", headers=session_cookie(login))
    assert other.status_code == 403
    forged = client.simulate_post(
        f"/portal/accounts/{world.ids['customer_two']}/proforma",
        body="amount=100",
        headers={**session_cookie(login), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert forged.status_code == 403 and "form_token" in forged.json["data"]
    rows = world.store.all_docs(account_db(world.ids["customer_two"])).rows
    assert not [row.id for row in rows if row.id.startswith("kazbill_proforma_request")]


def test_a_proforma_request_is_recorded_and_issued_and_bad_amounts_come_back_as_a_message(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    form_token, headers = page_form(client, customer)
    done = client.simulate_post(
        f"/portal/accounts/{customer}/proforma", body=f"amount=1500.00&form_token={form_token}", headers=headers
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=proforma")
    rows = world.store.all_docs(account_db(customer)).rows
    requests = [
        world.store.get(account_db(customer), row.id) for row in rows if row.id.startswith("kazbill_proforma_request")
    ]
    assert [(r["amount"], r["currency"], r["state"], r["document"]["number"]) for r in requests] == [
        (15_000_000, "RUB", "issued", "1")
    ]  # issued at once; the document workers render and email it
    bad = client.simulate_post(
        f"/portal/accounts/{customer}/proforma", body=f"amount=1e9999&form_token={form_token}", headers=headers
    )
    assert "error=" in bad.headers["location"] and "amount" in bad.headers["location"]


def test_what_a_customer_typed_is_escaped_on_the_page(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    for db in (ACCOUNTS_DB, account_db(customer)):
        doc = world.store.get(db, customer)
        world.store.put(db, {**doc, "name": "<script>alert(1)</script>"})
    login = log_in(client, account_name="<script>alert(1)</script>")
    page = client.simulate_get(f"/portal/accounts/{customer}", headers=session_cookie(login))
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_guesses_through_the_page_count_against_the_account_from_any_address(api):
    """The page logs in by the API's rule: guesses from many addresses at one account are stopped
    after the free ones, and then even the right password waits (429 with Retry-After)."""
    client, _, _ = api
    for n in range(5):
        wrong = client.simulate_post(
            "/portal/login",
            body="account_name=Customer Two&username=admin-customer_two&password=guess",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            remote_addr=f"203.0.113.{n + 1}",
        )
        assert wrong.status_code == 401
    stopped = client.simulate_post(
        "/portal/login",
        body="account_name=Customer Two&username=admin-customer_two&password=secret",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        remote_addr="198.51.100.7",
    )
    assert stopped.status_code == 429 and int(stopped.headers["retry-after"]) > 0


def test_logging_out_of_the_page_ends_the_session_token_everywhere(api):
    client, world, _ = api
    login = log_in(client)
    cookie = session_cookie(login)
    page = f"/portal/accounts/{world.ids['customer_two']}"
    assert client.simulate_get(page, headers=cookie).status_code == 200
    out = client.simulate_post("/portal/logout", headers=cookie)
    assert out.status_code == 303 and out.headers["location"] == "/portal/login"
    # The old cookie, kept by someone who copied it, no longer opens the page.
    assert client.simulate_get(page, headers=cookie).headers["location"] == "/portal/login"
    assert client.simulate_post("/portal/logout").status_code == 303  # no session: nothing to end, no error


def test_a_proforma_past_the_accounts_limit_comes_back_as_a_message_and_nothing_is_numbered(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    form_token, headers = page_form(client, customer)
    answers = [
        client.simulate_post(
            f"/portal/accounts/{customer}/proforma", body=f"amount=10.00&form_token={form_token}", headers=headers
        )
        for _ in range(21)
    ]
    assert all(a.headers["location"].endswith("?done=proforma") for a in answers[:20])
    assert answers[20].status_code == 303 and "error=" in answers[20].headers["location"]
    assert "proformas" in answers[20].headers["location"]
    rows = world.store.all_docs(account_db(customer)).rows
    assert len([row.id for row in rows if row.id.startswith("kazbill_proforma_request")]) == 20


def test_without_a_carrier_the_page_offers_no_proforma_and_a_posted_one_comes_back_as_a_message(api):
    client, world, _ = api
    customer, reseller_id = world.ids["customer_two"], world.ids["reseller"]
    form_token, headers = page_form(client, customer)
    assert 'id="proforma"' in client.simulate_get(f"/portal/accounts/{customer}", headers=headers).text
    onbill = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {k: v for k, v in onbill.items() if k != "carriers"})
    assert 'id="proforma"' not in client.simulate_get(f"/portal/accounts/{customer}", headers=headers).text
    posted = client.simulate_post(
        f"/portal/accounts/{customer}/proforma", body=f"amount=10.00&form_token={form_token}", headers=headers
    )
    assert posted.status_code == 303 and "no+carrier+yet" in posted.headers["location"]
    rows = world.store.all_docs(account_db(customer)).rows
    assert not [row.id for row in rows if row.id.startswith("kazbill_proforma_request")]


def test_a_blocked_customer_sees_what_restores_the_service_under_its_resellers_name(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    _, headers = page_form(client, customer)
    reseller_name = world.store.get(ACCOUNTS_DB, world.ids["reseller"])["name"]
    page = client.simulate_get(f"/portal/accounts/{customer}", headers=headers).text
    assert f'<span id="reseller">{reseller_name}</span>' in page and 'id="restore"' not in page
    world.store.put(
        account_db(customer),
        {
            "_id": "kazbill_standing",
            "pvt_type": "kazbill_standing",
            "status": "delinquent",
            "blocked": True,
            "amount_to_restore": 3_000_000,
            "reasons": ["the period's charges are not covered"],
        },
    )
    page = client.simulate_get(f"/portal/accounts/{customer}?lang=en", headers=headers).text
    restore = re.search(r'id="restore"><span>([^<]+)</span><strong>([^<]+)</strong>', page)
    assert restore and restore[1] == "To restore service, pay at least" and "300.00" in restore[2]
    for gateway in ('id="paypal"', 'id="yandex"', 'id="card"'):  # the reseller offers none of them here
        assert gateway not in page


def test_the_customer_downloads_its_documents_and_looks_back_at_a_past_period(api):
    from bookkeeper.domain.kazoo_names import to_gregorian_seconds
    from bookkeeper.services.documents.document_queue import process_due_documents
    from documents.render import WeasyRenderer
    from tests.unit.crossbar_api.test_onbills_api import issued_world

    client, world, clock, customer, reseller = issued_world(api)
    client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    )
    _, headers = page_form(client, customer)
    page = client.simulate_get(f"/portal/accounts/{customer}?lang=ru", headers=headers).text
    rows = re.findall(
        r"<tr><td>(Счёт|Акт)</td><td>1</td><td>01.11.2026</td>\s*<td class=\"amount\">([^<]+)</td>\s*"
        r"<td>(.*?)</td></tr>",
        page,
    )
    assert [(kind, "1 000,00" in total.replace("\u00a0", " "), "готовится" in link) for kind, total, link in rows] == [
        ("Счёт", True, True),
        ("Акт", True, True),
    ]  # listed at once, downloadable once rendered
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    assert process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now).rendered == 2
    page = client.simulate_get(f"/portal/accounts/{customer}", headers=headers).text
    links = re.findall(r'<a href="(/portal/accounts/[0-9a-f]+/documents/[^"]+)">PDF</a>', page)
    assert len(links) == 2
    pdf = client.simulate_get(links[0], headers=headers)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    other = world.ids["other_customer"]  # the same document id under another account is no document
    assert client.simulate_get(links[0].replace(customer, other), headers=headers).status_code == 403
    assert client.simulate_get(f"/portal/accounts/{customer}/documents/nonsense", headers=headers).status_code == 404
    assert client.simulate_get(links[0]).status_code in (303, 401)  # no session, no document
    past = client.simulate_get(f"/portal/accounts/{customer}?lang=en&period=2026-11-01", headers=headers).text
    assert '<h2 id="period">Billing period: 1 November 2026 – 30 November 2026</h2>' in past and 'id="closing"' in past
    assert re.search(r'<a href="\?period=2026-11-01">1 November 2026 – 30 November 2026</a></td>\s*<td>paid</td>', page)


def test_the_page_lists_a_voided_invoice_its_credit_note_and_the_invoice_that_replaced_it(api):
    from tests.unit.crossbar_api.test_onbills_api import issued_world

    client, world, clock, customer, reseller = issued_world(api)
    issued = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    ).json["data"]["issued"]
    voided = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/{issued[0]['id']}/void",
        headers=reseller,
        json={"data": {"reason": "Неверный адрес"}},
    )
    assert voided.status_code == 201, voided.json
    _, headers = page_form(client, customer)
    page = client.simulate_get(f"/portal/accounts/{customer}?lang=ru", headers=headers).text
    rows = re.findall(r"<tr><td>([^<]+)(?: <span class=\"muted\">\(([^)]*)\)</span>)?</td><td>([^<]+)</td>", page)
    assert sorted(rows) == sorted(
        [
            ("Счёт", "аннулирован корректировочным счётом 1", "1"),
            ("Акт", "аннулирован корректировочным счётом 1", "1"),
            ("Корректировочный счёт", "к счёту 1", "1"),
            ("Счёт", "", "2"),
            ("Акт", "", "2"),
        ]
    ), rows


def test_the_page_shows_the_legal_details_the_documents_will_carry(api):
    client, world, _ = api
    customer = world.ids["customer_two"]
    _, headers = page_form(client, customer)
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    client.simulate_patch(
        f"/v2/accounts/{customer}/onbill",
        headers=own,
        json={"data": {"legal": {"name": "Beta GmbH", "vat_id": "DE123456789"}}},
    )
    page = client.simulate_get(f"/portal/accounts/{customer}?lang=en", headers=headers).text
    assert re.search(
        r'<table id="legal"><tr><td>Name</td><td>Beta GmbH</td></tr><tr><td>VAT ID</td>'
        r"<td>DE123456789</td></tr></table>",
        page,
    )
