"""The console's settings page: a reseller adds a webhook and tests it against a real receiver,
reads its delivery log, and is shown, under the section that sent it, whatever the API refuses
(a bad URL, broken carrier JSON, a gateway setting, a hostile template), with nothing saved; a
carrier's details and a gateway's settings are edited field by field."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.adapters.webhook_poster import HttpWebhookPoster
from bookkeeper.domain.kazoo_names import account_db
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from tests.unit.crossbar_api.test_console_pages import form_token, log_in


class Receiver(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        Receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def settings_console(tmp_path):
    store = EmbeddedStore(tmp_path / "settings.sqlite3")
    world = ApiWorld(store).build()
    deps = ApiDeps(
        store=store,
        clock=SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)),
        design_docs=world.world.design_docs,
        tokens=TokenSigner(b"settings-test-secret-01", 3600),
        webhook_poster=HttpWebhookPoster(allow_private=True, timeout_s=5),
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = testing.TestClient(create_app(deps))
    _, cookie = log_in(client)
    yield client, world, cookie, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    store.close()


def send(client, cookie, reseller, section, **fields):
    page = client.simulate_get(f"/console/accounts/{reseller}/settings", headers=cookie)
    assert page.status_code == 200, page.text[:1000]
    return client.simulate_post(
        f"/console/accounts/{reseller}/settings/{section}?lang=en",
        body=urlencode({"form_token": form_token(page.text), **fields}),
        headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )


def test_a_webhook_is_added_tested_against_a_real_receiver_and_logged(settings_console):
    client, world, cookie, url = settings_console
    reseller = world.ids["reseller"]
    added = send(client, cookie, reseller, "webhook_add", url=url, **{"event_payment.received": "on"})
    assert added.status_code == 303 and added.headers["location"].endswith("done=webhook_add")
    page = client.simulate_get(added.headers["location"], headers=cookie).text
    hook_id = re.search(r'data-hook="([0-9a-f]+)"', page).group(1)
    assert "whsec_" in page and "payment.received" in page
    Receiver.received.clear()
    tested = send(client, cookie, reseller, "webhook_test", hook_id=hook_id)
    assert tested.status_code == 303, tested.text[-2000:]
    assert len(Receiver.received) == 1 and b'"webhook.test"' in Receiver.received[0]
    page = client.simulate_get(tested.headers["location"], headers=cookie).text
    assert re.search(r"webhook\.test · delivered · 1 attempts · 204", page)


def test_what_the_api_refuses_is_named_under_its_section_and_nothing_is_saved(settings_console):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    onbill_before = world.store.get(account_db(reseller), "onbill")["_rev"]
    bad_url = send(client, cookie, reseller, "webhook_add", url="ftp://example.net", **{"event_balance.low": "on"})
    assert bad_url.status_code == 400 and re.search(r'id="problems-webhook_add">.*?<li>url: ', bad_url.text, re.S)
    broken = send(client, cookie, reseller, "carriers", carriers='[{"id": "main",')
    assert broken.status_code == 400 and re.search(r'id="problems-carriers">.*?carriers: not JSON', broken.text, re.S)
    assert "[{&#34;id&#34;: &#34;main&#34;," in broken.text  # what was typed stays
    wrong = send(client, cookie, reseller, "carriers", carriers='[{"id": "main", "vat_rate": "lots"}]')
    assert wrong.status_code == 400 and 'id="problems-carriers"' in wrong.text
    assert world.store.get(account_db(reseller), "onbill")["_rev"] == onbill_before
    gateway = send(client, cookie, reseller, "gateway", kind="paypal_config", enabled="on", min_amount="ten")
    assert gateway.status_code == 400 and re.search(
        r'id="problems-gateway_paypal_config">.*?min_amount', gateway.text, re.S
    )
    assert 'value="ten"' in gateway.text  # what was typed stays
    hostile = send(
        client,
        cookie,
        reseller,
        "template",
        carrier="main",
        document_type="invoice",
        template="{{ ''.__class__.__mro__ }}",
    )
    assert hostile.status_code == 400 and 'id="problems-template"' in hostile.text


def test_a_customer_or_another_reseller_cannot_use_the_settings(settings_console):
    client, world, _, url = settings_console
    _, other = log_in(client, "Other Reseller", "admin-other_reseller")
    page = client.simulate_get(f"/console/accounts/{world.ids['reseller']}/settings", headers=other)
    assert page.status_code == 403


def carrier_form(client, cookie, reseller, carrier_id, lang="en", **changes):
    """The carrier's form as the page fills it, with `changes` typed over it, posted."""
    url = f"/console/accounts/{reseller}/settings/carriers/{carrier_id}?lang={lang}"
    page = client.simulate_get(url, headers=cookie)
    assert page.status_code == 200, page.text[:1000]
    fields = dict(re.findall(r'<input name="([a-z_]+)" id="f-[a-z_]+" value="([^"]*)"', page.text))
    fields.update({name: "on" for name in re.findall(r'<input type="checkbox" name="([a-z_]+)" checked>', page.text)})
    fields.update(changes)
    body = {"form_token": form_token(page.text), **{k: v for k, v in fields.items() if v is not None}}
    return client.simulate_post(
        url, body=urlencode(body), headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"}
    )


def test_a_carriers_legal_and_bank_details_are_edited_field_by_field_and_the_rest_is_kept(settings_console):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    db = account_db(reseller)
    onbill = world.store.get(db, "onbill")
    carrier = {**onbill["carriers"][0], "legal": {**onbill["carriers"][0]["legal"], "director": "Иванов И. И."}}
    carrier["numbering"] = {"proforma": {"start": 500}}
    world.store.put(db, {**onbill, "carriers": [carrier]})
    form = client.simulate_get(f"/console/accounts/{reseller}/settings/carriers/main", headers=cookie).text
    assert re.search(r'id="kept-lines">.*?legal.director</code> Иванов', form, re.S)  # not asked, shown, kept
    saved = carrier_form(
        client,
        cookie,
        reseller,
        "main",
        legal_inn="7707083893",
        bank_bik="044525225",
        invoice_start="100",
        act_follows_invoice="on",
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=carriers"), saved.text[-1500:]
    stored = world.store.get(db, "onbill")["carriers"][0]
    assert stored["legal"]["inn"] == "7707083893" and stored["legal"]["director"] == "Иванов И. И."  # kept
    assert stored["bank"]["bik"] == "044525225" and stored["main"] is True
    assert stored["numbering"] == {
        "proforma": {"start": 500},  # not asked by the form: kept
        "invoice": {"start": 100, "per_year": True},
        "act": {"follows": "invoice"},
    }
    page = client.simulate_get(saved.headers["location"], headers=cookie).text
    assert 'id="carrier-list"' in page and "7707083893" in page and "/settings/carriers/main" in page


def test_a_refused_carrier_field_is_named_beside_it_with_the_text_kept_and_nothing_saved(settings_console):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    before = world.store.get(account_db(reseller), "onbill")["_rev"]
    refused = carrier_form(client, cookie, reseller, "main", legal_inn="1234567890")
    assert refused.status_code == 400
    assert re.search(r'id="e-legal_inn">[^<]+', refused.text) and 'value="1234567890"' in refused.text
    not_a_number = carrier_form(client, cookie, reseller, "main", invoice_start="one hundred")
    assert not_a_number.status_code == 400 and 'id="e-invoice_start"' in not_a_number.text
    assert world.store.get(account_db(reseller), "onbill")["_rev"] == before
    assert (
        client.simulate_get(f"/console/accounts/{reseller}/settings/carriers/nobody", headers=cookie).status_code == 404
    )


def test_a_new_main_carrier_takes_over_from_the_old_one_and_an_id_taken_is_refused(settings_console):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    added = carrier_form(
        client, cookie, reseller, "new", id="north", name="ООО «Север»", main="on", legal_inn="7736050003"
    )
    assert added.status_code == 303, added.text[-1500:]
    carriers = {c["id"]: c for c in world.store.get(account_db(reseller), "onbill")["carriers"]}
    assert carriers["north"]["main"] is True and carriers["main"]["main"] is False
    assert carriers["north"]["document_types"] == ["invoice", "act"]
    taken = carrier_form(client, cookie, reseller, "new", id="north", name="Another")
    assert taken.status_code == 400 and 'id="e-id"' in taken.text


def test_a_gateway_is_set_field_by_field_and_a_stored_secret_is_kept_when_left_empty(settings_console):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    fields = {"kind": "braintree_config", "enabled": "on", "environment": "sandbox", "merchant_id": "m_1"}
    saved = send(client, cookie, reseller, "gateway", **fields, public_key="pk_1", private_key="sk_secret_1234")
    assert saved.status_code == 303, saved.text[-1500:]
    again = send(client, cookie, reseller, "gateway", **fields, public_key="pk_2", private_key="")
    assert again.status_code == 303
    stored = world.store.get(account_db(reseller), "braintree_config")
    assert (stored["public_key"], stored["private_key"], stored["enabled"]) == ("pk_2", "sk_secret_1234", True)
    page = client.simulate_get(again.headers["location"], headers=cookie).text
    assert 'placeholder="****1234"' in page and "sk_secret_1234" not in page
    off = send(client, cookie, reseller, "gateway", kind="braintree_config", environment="sandbox", merchant_id="")
    assert off.status_code == 303
    stored = world.store.get(account_db(reseller), "braintree_config")
    assert stored["enabled"] is False and "merchant_id" not in stored


def test_a_carriers_bad_inn_is_refused_when_written_but_one_stored_before_stops_no_billing(settings_console):
    from bookkeeper.services.billing.account_pass import BillingPorts
    from bookkeeper.services.operations.account_batches import bill_accounts

    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    db = account_db(reseller)
    onbill = world.store.get(db, "onbill")
    bad = [{**onbill["carriers"][0], "legal": {**onbill["carriers"][0]["legal"], "inn": "7701234567"}}]
    world.store.put(db, {**onbill, "carriers": bad})  # as stored before carriers' tax ids were checked
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    assert not bill_accounts(
        BillingPorts(world.store, clock, world.world.design_docs), [world.ids["customer_two"]]
    ).failed
    _, token_cookie = log_in(client)
    refused = send(client, token_cookie, reseller, "carriers", carriers=json.dumps(bad))
    assert refused.status_code == 400 and "carriers[0].legal.inn" in refused.text


def test_a_carriers_tax_ids_are_stored_as_tax_offices_write_them_and_numbering_it_does_not_ask_is_kept(
    settings_console,
):
    client, world, cookie, _ = settings_console
    reseller = world.ids["reseller"]
    db = account_db(reseller)
    onbill = world.store.get(db, "onbill")
    carrier = {**onbill["carriers"][0], "document_types": ["invoice", "act", "proforma"]}
    carrier["numbering"] = {"act": {"follows": "proforma"}}
    world.store.put(db, {**onbill, "carriers": [carrier]})
    saved = carrier_form(client, cookie, reseller, "main", legal_inn="7707 083 893", legal_country="ru")
    assert saved.status_code == 303, saved.text[-1500:]
    stored = world.store.get(db, "onbill")["carriers"][0]
    assert (stored["legal"]["inn"], stored["legal"]["country"]) == ("7707083893", "RU")
    assert stored["numbering"]["act"] == {"follows": "proforma"}  # not the form's to drop
