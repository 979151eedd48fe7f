"""The documents over the API: a reseller issues a closed period's documents, lists them, reads
one, downloads its PDF once rendered; the account cannot issue its own; bad requests name their
field and change nothing."""

from __future__ import annotations

from datetime import datetime

from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.documents.document_queue import process_due_documents
from documents.render import WeasyRenderer
from testkit.fixtures.api_world import MSK
from tests.unit.crossbar_api.test_api import token


def issued_world(api):
    client, world, clock = api
    customer = world.ids["customer_two"]
    world.world.add_devices(customer, 2)
    reconcile_account(BillingPorts(world.store, clock, world.world.design_docs), customer)  # November opened
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=MSK))
    return client, world, clock, customer, {"X-Auth-Token": token(client, world, "reseller")}


def first_invoice_text(client, world, clock, customer, reseller, tmp_path, *options: str) -> str:
    """November's documents issued and rendered; the invoice's text as pdftotext reads it."""
    import subprocess

    issued = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    ).json["data"]["issued"]
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now)
    pdf = client.simulate_get(f"/v2/accounts/{customer}/onbills/{issued[0]['id']}/pdf", headers=reseller).content
    (tmp_path / "invoice.pdf").write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *options, str(tmp_path / "invoice.pdf"), "-"], capture_output=True, text=True
    ).stdout


def test_a_reseller_issues_lists_reads_and_downloads_a_periods_documents(api):
    client, world, clock, customer, reseller = issued_world(api)
    url = f"/v2/accounts/{customer}/onbills"
    generated = client.simulate_put(f"{url}/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}})
    assert generated.status_code == 201, generated.json
    issued = generated.json["data"]["issued"]
    assert [(d["document_type"], d["carrier"], d["number"]) for d in issued] == [
        ("invoice", "main", "1"),
        ("act", "main", "1"),
    ]
    listed = client.simulate_get(url, headers=reseller).json["data"]
    assert [(d["document_type"], d["state"], d["total"]) for d in listed] == [
        ("invoice", "queued", 1000),
        ("act", "queued", 1000),
    ]
    invoice_id = issued[0]["id"]
    one = client.simulate_get(f"{url}/{invoice_id}", headers=reseller).json["data"]
    assert one["number"] == "1" and one["period"] == {"start": "2026-11-01", "end": "2026-11-30"} and not one["pdf"]
    assert client.simulate_get(f"{url}/{invoice_id}/pdf", headers=reseller).status_code == 409
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    assert process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now).rendered == 2
    pdf = client.simulate_get(f"{url}/{invoice_id}/pdf", headers=reseller)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert [d["email"] for d in issued] == [True, True]
    again = client.simulate_put(f"{url}/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}})
    assert [d["number"] for d in again.json["data"]["issued"]] == ["1", "1"]  # reissued: the same numbers
    # Never emailed (no mail server here): issued again, they are still to be sent; "email": false
    # says none (a reissued period after emailing is tests/integration/test_period_documents.py).
    assert [d["email"] for d in again.json["data"]["issued"]] == [True, True]
    quiet = client.simulate_put(
        f"{url}/generate", headers=reseller, json={"data": {"period_start": "2026-11-01", "email": False}}
    )
    assert [d["email"] for d in quiet.json["data"]["issued"]] == [False, False]
    wrong = client.simulate_put(
        f"{url}/generate", headers=reseller, json={"data": {"period_start": "2026-11-01", "email": "yes"}}
    )
    assert wrong.status_code == 400 and "email" in wrong.json["data"], wrong.json


def test_the_account_cannot_issue_its_own_and_bad_requests_name_their_field(api):
    client, world, clock, customer, reseller = issued_world(api)
    url = f"/v2/accounts/{customer}/onbills/generate"
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    assert client.simulate_put(url, headers=own, json={"data": {"period_start": "2026-11-01"}}).status_code == 403
    for data, field in (
        ({"period_start": "November"}, "period_start"),
        ({"period_start": "2026-12-01"}, "period"),
        ({"period_start": "2026-11-05"}, "period"),
        ({"period_start": "2026-11-01", "x": 1}, "x"),
        ({"period_start": "2026-11-01", "children": "yes"}, "children"),
    ):
        refused = client.simulate_put(url, headers=reseller, json={"data": data})
        assert refused.status_code == 400 and field in refused.json["data"], (data, refused.json)
    assert client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=reseller).json["data"] == []
    assert client.simulate_get(f"/v2/accounts/{customer}/onbills/not-a-doc", headers=reseller).status_code == 404


def test_a_reseller_issues_every_childs_documents_and_hears_which_could_not_be(api):
    client, world, clock, customer, reseller = issued_world(api)
    answer = client.simulate_put(
        f"/v2/accounts/{world.ids['reseller']}/onbills/generate",
        headers=reseller,
        json={"data": {"period_start": "2026-11-01", "children": True}},
    )
    assert answer.status_code == 201, answer.json
    assert {d["account_id"] for d in answer.json["data"]["issued"]} == {customer}  # the only one with charges


def test_a_resellers_own_template_is_checked_stored_and_used_and_a_hostile_one_changes_nothing(api, tmp_path):

    from bookkeeper.domain.kazoo_names import account_db

    client, world, clock, customer, reseller = issued_world(api)
    reseller_id = world.ids["reseller"]
    onbill = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {**onbill, "carriers": [{"id": "volna", "name": "Volna", "main": True}]})
    url = f"/v2/accounts/{reseller_id}/onbill_templates/volna/invoice"
    assert client.simulate_get(url, headers=reseller).status_code == 404  # the default is in use
    html = {**reseller, "Content-Type": "text/html"}
    hostile = client.simulate_put(url, headers=html, body='<img src="https://tracker.example/p.png">')
    assert hostile.status_code == 400 and "outside the document" in hostile.json["data"]["template"]["check"]["message"]
    assert client.simulate_get(url, headers=reseller).status_code == 404  # nothing was stored
    own = "<html><body><h1>OUR OWN {{ d.number }}</h1><p>{{ money(d.totals.gross) }}</p></body></html>"
    saved = client.simulate_put(url, headers=html, body=own)
    assert saved.status_code == 201, saved.json
    assert client.simulate_get(url, headers=reseller).text == own
    wrong = client.simulate_put(f"/v2/accounts/{reseller_id}/onbill_templates/nobody/invoice", headers=html, body=own)
    assert wrong.status_code == 404 and "carrier" in wrong.json["data"]
    text = first_invoice_text(client, world, clock, customer, reseller, tmp_path)
    assert "OUR OWN 1" in text and "1,000.00" in text  # the reseller's template, English amounts
    assert client.simulate_delete(url, headers=reseller).json["data"] == {"removed": True}
    assert client.simulate_get(url, headers=reseller).status_code == 404


def test_a_customer_asks_for_a_proforma_and_gets_a_numbered_one_rendered(api, tmp_path):
    import subprocess

    client, world, clock, customer, reseller = issued_world(api)
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{customer}/onbill_proforma"
    first = client.simulate_put(url, headers=own, json={"data": {"amount": 1500}})
    second = client.simulate_put(url, headers=own, json={"data": {"amount": "99.90"}})
    assert (first.status_code, second.status_code) == (201, 201), first.json
    assert [first.json["data"]["number"], second.json["data"]["number"]] == ["1", "2"]
    for data, field in (({"amount": "1.234"}, "amount"), ({"amount": -5}, "amount"), ({"amount": 5, "x": 1}, "x")):
        refused = client.simulate_put(url, headers=own, json={"data": data})
        assert refused.status_code == 400 and field in refused.json["data"]
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    assert process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now).rendered == 2
    doc_id = first.json["data"]["id"]
    pdf = client.simulate_get(f"/v2/accounts/{customer}/onbills/{doc_id}/pdf", headers=own).content
    (tmp_path / "p.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True).stdout
    for shown in ("Pro-forma invoice No. 1", "Advance payment for telecom services", "1,500.00", "Valid until"):
        assert shown in text, shown


def test_an_invoice_for_a_payment_has_one_number_however_often_it_is_asked_for(api, tmp_path):
    import subprocess

    client, world, clock, customer, reseller = issued_world(api)
    credit = client.simulate_put(
        f"/v2/accounts/{customer}/ledgers/credit",
        json={"data": {"amount": 300}},
        headers={**reseller, "Idempotency-Key": "wire-1"},
    ).json["data"]["id"]
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{customer}/onbills/transaction"
    first = client.simulate_put(url, headers=own, json={"data": {"entry_id": credit}})
    again = client.simulate_put(url, headers=own, json={"data": {"entry_id": credit}})
    assert first.status_code == 201 and (first.json["data"]["number"], again.json["data"]["number"]) == ("1", "1")
    assert first.json["data"]["id"] == again.json["data"]["id"]
    listed = client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=own).json["data"]
    assert [d["document_type"] for d in listed] == ["transaction_invoice"]  # one document, asked for twice
    for data in ({"entry_id": "202611-kazbill-mrc-nothing"}, {"entry_id": "not-an-id"}, {"entry_id": 5}, {"x": 1}):
        refused = client.simulate_put(url, headers=own, json={"data": data})
        assert refused.status_code == 400, (data, refused.json)
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now)
    pdf = client.simulate_get(f"/v2/accounts/{customer}/onbills/{first.json['data']['id']}/pdf", headers=own).content
    (tmp_path / "t.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "t.pdf"), "-"], capture_output=True, text=True).stdout
    for shown in ("Invoice for a payment No. 1", "Telecom services, paid in advance", "300.00", "Paid on"):
        assert shown in text, shown


def test_before_the_reseller_has_a_carrier_no_document_is_issued_and_no_number_spent(api):
    """A document names the legal entity that issues it. Without one, generating answered 201 and
    issued "Счёт № 1" with no address, tax ids or bank, and it was emailed to the customer."""
    from bookkeeper.domain.kazoo_names import account_db

    client, world, clock, customer, reseller = issued_world(api)
    reseller_id = world.ids["reseller"]
    onbill = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {k: v for k, v in onbill.items() if k != "carriers"})
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    refused = [
        client.simulate_put(
            f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
        ),
        client.simulate_put(f"/v2/accounts/{customer}/onbill_proforma", headers=own, json={"data": {"amount": 100}}),
    ]
    for answer in refused:
        assert answer.status_code == 409, answer.json
        assert "has no carrier yet" in answer.json["data"]["carriers"]["missing"]["message"]
    assert client.simulate_get(f"/v2/accounts/{customer}/onbills", headers=reseller).json["data"] == []
    assert [
        key for key in world.store.all_docs(account_db(customer)).rows if key.id.startswith("kazbill_proforma_request-")
    ] == []  # nothing recorded, nothing counted
    children = client.simulate_put(
        f"/v2/accounts/{reseller_id}/onbills/generate",
        headers=reseller,
        json={"data": {"period_start": "2026-11-01", "children": True}},
    )
    assert children.status_code == 200 and children.json["data"]["issued"] == []
    assert children.json["data"]["refused"][customer]["field"] == "carriers"
    current = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {**current, "carriers": onbill["carriers"]})  # numbering starts at 1
    issued = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    )
    assert [d["number"] for d in issued.json["data"]["issued"]] == ["1", "1"]


def test_the_customer_sets_its_legal_details_and_its_invoice_names_it_by_them(api, tmp_path):

    from bookkeeper.domain.kazoo_names import account_db

    client, world, clock, customer, reseller = issued_world(api)
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    url = f"/v2/accounts/{customer}/onbill"
    before = world.store.get(account_db(customer), "onbill")
    wrong = client.simulate_patch(
        url, headers=own, json={"data": {"legal": {"name": "ООО «Бета»", "inn": "7707083894"}}}
    )
    assert wrong.status_code == 400 and "check digits" in wrong.json["data"]["legal.inn"]["invalid"]["message"]
    assert world.store.get(account_db(customer), "onbill") == before  # nothing changed
    legal = {"name": "ООО «Бета»", "address": "Москва, ул. Тверская, 7", "inn": "7707 083893", "kpp": "773601001"}
    saved = client.simulate_patch(url, headers=own, json={"data": {"legal": legal}})
    assert saved.status_code == 200, saved.json
    assert saved.json["data"]["legal"]["inn"] == "7707083893"  # kept without the spaces
    text = first_invoice_text(client, world, clock, customer, reseller, tmp_path, "-layout")
    customer_column = [line[50:].strip() for line in text.splitlines()]  # the right-hand party
    for shown in ("ООО «Бета»", "INN 7707083893", "KPP 773601001", "Москва, ул. Тверская, 7"):  # in English
        assert shown in customer_column, text


def test_a_document_changed_while_it_was_rendered_is_rendered_again_later_and_the_pass_goes_on(api):
    # The attachment is written on the revision that was rendered: a regeneration in between (or a
    # cluster's rival write) is a Conflict, which once escaped and cut the whole pass short.
    from bookkeeper.ports import Conflict

    client, world, clock, customer, reseller = issued_world(api)
    client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    )

    class ChangedUnderTheRenderer:
        def __init__(self, store):
            self.store = store

        def __getattr__(self, name):
            return getattr(self.store, name)

        def put_attachment(self, db, doc_id, *args):
            raise Conflict(db, doc_id)

    now = to_gregorian_seconds(int(clock.now().timestamp()))
    racing = process_due_documents(
        ChangedUnderTheRenderer(world.store), WeasyRenderer(), None, sender="b@x", now_gregorian=now
    )
    assert (racing.retrying, racing.rendered, racing.failed) == (2, 0, 0)  # both documents, none lost
    later = process_due_documents(world.store, WeasyRenderer(), None, sender="b@x", now_gregorian=now + 86_400)
    assert later.rendered == 2


def test_under_netto_vat_a_proforma_asks_for_the_amount_requested_vat_included(api):
    """The transfer it asks for lands on the balance, which a netto reseller's charges debit with
    their VAT: so a pro-forma for 5,000.00 asks for 5,000.00 and says what VAT it holds (it was
    billed at 6,000.00, VAT added on top)."""
    from bookkeeper.domain.kazoo_names import account_db

    client, world, clock, customer, reseller = issued_world(api)
    db = account_db(world.ids["reseller"])
    world.store.put(db, {**world.store.get(db, "onbill"), "vat_disposition": "netto", "vat_rate": 20})
    own = {"X-Auth-Token": token(client, world, "customer_two")}
    asked = client.simulate_put(
        f"/v2/accounts/{customer}/onbill_proforma", headers=own, json={"data": {"amount": 5000}}
    )
    assert asked.status_code == 201, asked.json
    one = client.simulate_get(f"/v2/accounts/{customer}/onbills/{asked.json['data']['id']}", headers=own).json["data"]
    assert one["totals"] == {"net": 416_667, "vat": 83_333, "gross": 500_000}
