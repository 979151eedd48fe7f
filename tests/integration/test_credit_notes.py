"""Correcting issued documents on both stores: a credit note for part of an invoice credits the
balance exactly once and is rendered as a Russian корректировочный счёт referring to its invoice;
the rest credited in a second note adds up to the invoice to the kopeck; a voided invoice stays
in the record, its act with it, and the period is issued again under the next numbers while the
other carrier's invoice keeps its own."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.domain.documents.credit_notes import CreditRefused, NotCreditable
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.corrections import credit_document, void_document
from bookkeeper.services.documents.document_listing import list_documents
from bookkeeper.services.documents.document_queue import process_due_documents
from bookkeeper.services.documents.period_documents import issue_period_documents
from documents.render import WeasyRenderer
from tests.integration import test_period_documents
from tests.integration.test_period_documents import MSK, gregorian, pdf_text

pytestmark = pytest.mark.integration
period = test_period_documents.period  # the fixture: November closed, two carriers, phones and calls
NOVEMBER = date(2026, 11, 1)
UNITS_PER_KOPECK = 100  # Kazoo keeps 1/10,000 of a rouble


def balance(world, customer, ports) -> int:
    reconcile_account(BillingPorts(world.store, ports.clock, world.design_docs), customer)  # December opened
    return LedgerBook(world.store, world.design_docs).balance_at(customer, gregorian(ports.clock.now()) + 1)


def test_a_credit_note_credits_part_of_an_invoice_once_and_the_rest_adds_up_to_it(period, tmp_path):
    world, customer, ports = period
    store = world.store
    invoice = issue_period_documents(ports, customer, NOVEMBER)[0]
    original = store.get(invoice.db, invoice.doc_id)
    assert [line["gross"] for line in original["lines"]] == [100_000, 240]  # 2 phones, 2 min of calls
    before = balance(world, customer, ports)

    first = credit_document(
        ports,
        customer,
        invoice.doc_id,
        lines=[{"line": 1, "amount": "300.00"}],
        reason="Телефон не работал 9 дней",
        key="outage-1",
        by="reseller/anna",
    )
    note = store.get(first.credit_note.db, first.credit_note.doc_id)
    assert first.credit_note.db == account_modb(customer, 2026, 12)  # issued in December
    assert (note["number"], note["corrects"]["number"], note["refund"]) == ("1", "В-2026-100", True)
    assert note["totals"] == {"net": 25_000, "vat": 5_000, "gross": 30_000}  # 20 % inside, per line
    assert balance(world, customer, ports) == before + 30_000 * UNITS_PER_KOPECK

    repeat = credit_document(
        ports,
        customer,
        invoice.doc_id,
        lines=[{"line": 1, "amount": "300.00"}],
        reason="Телефон не работал 9 дней",
        key="outage-1",
        by="reseller/anna",
    )
    assert repeat.replay and repeat.credit_note.doc_id == first.credit_note.doc_id
    assert balance(world, customer, ports) == before + 30_000 * UNITS_PER_KOPECK  # credited once
    with pytest.raises(CreditRefused) as reused:
        credit_document(ports, customer, invoice.doc_id, lines=None, reason="другое", key="outage-1", by="r")
    assert reused.value.field == "Idempotency-Key"
    with pytest.raises(CreditRefused) as too_much:
        credit_document(
            ports, customer, invoice.doc_id, lines=[{"line": 1, "amount": "700.01"}], reason="x", key="k", by="r"
        )
    assert too_much.value.field == "lines[0].amount" and "700.00" in too_much.value.reason

    rest = credit_document(ports, customer, invoice.doc_id, lines=None, reason="Расторжение", key="rest", by="r")
    second = store.get(rest.credit_note.db, rest.credit_note.doc_id)
    assert second["number"] == "2"  # the credit notes' own sequence, gapless
    both = [note["totals"][k] + second["totals"][k] for k in ("net", "vat", "gross")]
    assert both == [original["totals"][k] for k in ("net", "vat", "gross")]  # to the kopeck
    assert balance(world, customer, ports) == before + original["totals"]["gross"] * UNITS_PER_KOPECK
    with pytest.raises(NotCreditable):
        credit_document(ports, customer, invoice.doc_id, lines=None, reason="again", key="more", by="r")

    # The invoice stays as issued: a regeneration neither rewrites nor resends it.
    again = issue_period_documents(ports, customer, NOVEMBER)
    assert again[0].frozen and again[0].number == "В-2026-100"
    assert store.get(invoice.db, invoice.doc_id)["credit_notes"] == {
        first.credit_note.doc_id: "1",
        rest.credit_note.doc_id: "2",
    }
    months = [(2026, 12), (2026, 11)]
    listed = list_documents(store, world.design_docs, customer, months, NOVEMBER)
    notes = [doc for doc in listed if doc["document_type"] == "credit_note"]
    assert sorted((doc["number"], doc["corrects"], doc["total"]) for doc in notes) == [
        ("1", "В-2026-100", 30_000),
        ("2", "В-2026-100", 70_240),
    ]

    now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))
    process_due_documents(store, WeasyRenderer(), None, sender="billing@volna.example", now_gregorian=now)
    text = pdf_text(store, first.credit_note.db, first.credit_note.doc_id, "credit_note-1.pdf", tmp_path)
    for shown in (
        "Корректировочный счёт № 1 от 02.12.2026",
        "К счёту № В-2026-100 от 30.11.2026",
        "Основание: Телефон не работал 9 дней",
        "300,00",
        "50,00",
        "Итого к уменьшению",
        "Триста рублей 00 копеек",
        "зачтена на лицевой счёт",
    ):
        assert shown in text, shown


def test_a_voided_invoice_stays_in_the_record_and_its_period_is_issued_again_under_new_numbers(period):
    world, customer, ports = period
    store = world.store
    issued = issue_period_documents(ports, customer, NOVEMBER)
    invoice, act, abroad = issued
    before = balance(world, customer, ports)

    voided = void_document(ports, customer, invoice.doc_id, reason="Неверный ИНН покупателя", by="reseller/anna")
    note = store.get(voided.credit_note.db, voided.credit_note.doc_id)
    original = store.get(invoice.db, invoice.doc_id)
    assert note["totals"] == original["totals"] and not note["refund"]
    assert balance(world, customer, ports) == before  # no money moves: the new invoice asks the same
    assert [(d.document_type, d.carrier, d.number) for d in voided.reissued] == [
        ("invoice", "volna", "В-2026-101"),
        ("act", "volna", "В-2026-101"),
    ]
    assert original["voided"]["number"] == note["number"] == "1"
    assert original["voided"]["replaced_by"] == [d.doc_id for d in voided.reissued]
    assert store.get(act.db, act.doc_id)["voided"]["by"] == voided.credit_note.doc_id
    assert store.get(invoice.db, invoice.doc_id)["number"] == "В-2026-100"  # still there, as issued

    again = void_document(ports, customer, invoice.doc_id, reason="Неверный ИНН покупателя", by="reseller/anna")
    assert again.replay and again.credit_note.doc_id == voided.credit_note.doc_id
    assert [d.number for d in again.reissued] == ["В-2026-101", "В-2026-101"]
    with pytest.raises(NotCreditable):
        credit_document(ports, customer, invoice.doc_id, lines=None, reason="x", key="k", by="r")
    with pytest.raises(NotCreditable) as an_act:
        void_document(ports, customer, act.doc_id, reason="x", by="r")
    assert "В-2026-100" in an_act.value.reason

    regenerated = issue_period_documents(ports, customer, NOVEMBER)
    assert [(d.carrier, d.number) for d in regenerated] == [
        ("volna", "В-2026-101"),
        ("volna", "В-2026-101"),
        ("volna-intl", abroad.number),
    ]
