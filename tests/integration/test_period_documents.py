"""A closed period's documents on both stores, rendered by WeasyPrint and emailed to a real SMTP
server (aiosmtpd): an invoice and an act from the main carrier sharing one number, an invoice
from the carrier that carries the calls abroad, totals, VAT and Cyrillic read back from the PDF
with pdftotext, the same numbers on regeneration, an open period refused."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.smtp_mailer import SmtpMailer
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.documents.document_queue import process_due_documents
from bookkeeper.services.documents.period_documents import DocumentPorts, DocumentRequestError, issue_period_documents
from bookkeeper.services.operations.status import store_status
from bookkeeper.services.rating.call_rating import bill_call
from bookkeeper.services.rating.rate_decks import import_rate_deck
from documents.render import WeasyRenderer
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.support.smtp_sink import SmtpSink
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CARRIERS = [
    {
        "id": "volna",
        "name": "ООО «Волна Телеком»",
        "main": True,
        "legal": {"address": "125009, Москва, ул. Тверская, д. 1", "inn": "ИНН 7701234567 / КПП 770101001"},
        "bank": {"bank": "ПАО Сбербанк", "account": "р/с 40702810938000000001", "bic": "БИК 044525225"},
        "numbering": {"invoice": {"start": 100, "format": "В-{year}-{number}"}, "act": {"follows": "invoice"}},
    },
    {
        "id": "volna-intl",
        "name": "Volna International Ltd",
        "document_types": ["invoice"],
        "called_patterns": ["^(?!7)"],
    },
]


def gregorian(moment: datetime) -> int:
    return to_gregorian_seconds(int(moment.timestamp()))


@pytest.fixture
def period(store):
    world = World(store).build(
        reseller_onbill={
            **RESELLER_ONBILL,
            "vat_disposition": "brutto",
            "vat_rate": 20,
            "carriers": CARRIERS,
            "default_rate_deck": "retail",
            "category_codes": {"devices": "61.10.1"},
        },
        plan=OFFICE_PLAN,
    )
    assert import_rate_deck(store, world.reseller, "retail", ["prefix,rate_cost", "7495,1.20", "44,6.00"]).report.ok
    customer = world.customer(
        "Альфа Такси", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
    )
    store.put(
        account_db(customer),
        stamp(
            {
                "_id": "user-admin",
                "username": "anna",
                "first_name": "Анна",
                "last_name": "Петрова",
                "email": "anna@alpha-taxi.example",
                "priv_level": "admin",
            },
            customer,
            "user",
        ),
    )
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    reconcile_account(ports, customer)  # November: 2 phones × 500.00
    ended = gregorian(datetime(2026, 11, 10, 11, 0, tzinfo=MSK))
    bill_call(ports, FinishedCall(customer, "call-local", 61, "74951234567", "outbound", True, ended, "74950000001"))
    bill_call(ports, FinishedCall(customer, "call-london", 30, "442071234567", "outbound", True, ended, "74950000001"))
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=MSK))
    return world, customer, DocumentPorts(store, clock, world.design_docs)


def pdf_text(store, db: str, doc_id: str, name: str, tmp_path: Path) -> str:
    path = tmp_path / name
    path.write_bytes(store.get_attachment(db, doc_id, name).data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_a_closed_period_gets_numbered_rendered_and_emailed_documents(period, tmp_path):
    world, customer, ports = period
    issued = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    assert [(d.document_type, d.carrier, d.number) for d in issued] == [
        ("invoice", "volna", "В-2026-100"),
        ("act", "volna", "В-2026-100"),
        ("invoice", "volna-intl", "1"),
    ]
    store, db = world.store, account_modb(customer, 2026, 11)
    assert {d.db for d in issued} == {db}
    invoice = store.get(db, issued[0].doc_id)
    assert invoice["state"] == "queued"
    # 2 phones × 500.00 and 2 min at 1.20, VAT 20 % inside (brutto): 1,002.40, of which VAT 167.07
    assert invoice["totals"] == {"net": 83_533, "vat": 16_707, "gross": 100_240}
    assert invoice["total_in_words"] == "Одна тысяча два рубля 40 копеек"
    sink = SmtpSink().start()
    try:
        now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))
        renderer, mailer = WeasyRenderer(), SmtpMailer("127.0.0.1", sink.port)
        first = process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
        second = process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
    finally:
        sink.stop()
    assert (first.rendered, second.emailed, first.failed + second.failed) == (3, 3, 0)
    states = {d.doc_id: store.get(db, d.doc_id)["state"] for d in issued}
    assert set(states.values()) == {"emailed"}
    assert store_status(store, checkpoint_id="kazbill_changes", followed=lambda db: False).documents == {"done": 3}
    text = pdf_text(store, db, issued[0].doc_id, "invoice-В-2026-100.pdf", tmp_path)
    for shown in (
        "Счёт № В-2026-100 от 30.11.2026",
        "ООО «Волна Телеком»",
        "Альфа Такси",
        "Desk",
        "61.10.1",
        "Услуги связи (поминутно)",
        "1 звонок, 2 мин",
        "1 002,40",
        "167,07",
        "Одна тысяча два рубля 40 копеек",
        "НДС включён",
    ):
        assert shown in text, shown
    act_text = pdf_text(store, db, issued[1].doc_id, "act-В-2026-100.pdf", tmp_path)
    assert "Акт оказанных услуг № В-2026-100" in act_text and "претензий" in act_text
    abroad = pdf_text(store, db, issued[2].doc_id, "invoice-1.pdf", tmp_path)
    assert "Volna International Ltd" in abroad and "6,00" in abroad  # 30 s: the first whole minute at 6.00
    assert len(sink.received) == 3
    message = next(m for m in sink.received if m["Subject"] == "Счёт № В-2026-100 за 01.11.2026 – 30.11.2026")
    assert message["X-Envelope-To"] == "anna@alpha-taxi.example"
    assert "за период 01.11.2026 – 30.11.2026" in message.get_body(("plain",)).get_content()  # no ISO dates in Russian
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice-В-2026-100.pdf" and attachment.get_content()[:5] == b"%PDF-"
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-singlefile",
            str(tmp_path / "invoice-В-2026-100.pdf"),
            str(ARTIFACTS / f"invoice-ru-{type(store).__name__}"),
        ],
        check=True,
    )


def test_regenerating_a_period_keeps_its_numbers_and_an_open_period_is_refused(period):
    world, customer, ports = period
    first = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    again = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    assert [d.number for d in again] == [d.number for d in first]
    with pytest.raises(DocumentRequestError) as refused:
        issue_period_documents(ports, customer, datetime(2026, 12, 1).date())
    assert refused.value.field == "period"
    with pytest.raises(DocumentRequestError) as refused:
        issue_period_documents(ports, customer, datetime(2026, 11, 5).date())
    assert refused.value.field == "period"


def test_a_calls_report_lists_each_carriers_calls_under_its_invoices_number(period, tmp_path):
    world, customer, ports = period
    invoices = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    reports = issue_period_documents(ports, customer, datetime(2026, 11, 1).date(), ("calls_report",))
    assert [(d.carrier, d.number) for d in reports] == [("volna", "В-2026-100"), ("volna-intl", "1")]
    assert [d.number for d in invoices if d.document_type == "invoice"] == ["В-2026-100", "1"]
    store, db = world.store, account_modb(customer, 2026, 11)
    local = store.get(db, reports[0].doc_id)
    assert [(c["ended"], c["number"], c["billed_seconds"], c["amount"]) for c in local["calls"]] == [
        ("2026-11-10 11:00:00", "74951234567", 120, 240)
    ]
    now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))
    process_due_documents(store, WeasyRenderer(), None, sender="billing@volna.example", now_gregorian=now)
    text = pdf_text(store, db, reports[1].doc_id, "calls_report-1.pdf", tmp_path)
    for shown in ("Детализация звонков № 1", "442071234567", "1 звонок, 1 мин", "6,00"):
        assert shown in text, shown


def test_an_aggregated_invoice_when_the_account_asks_and_documents_to_the_resellers_admins(period, tmp_path):
    world, customer, ports = period
    store = world.store
    onbill = store.get(account_db(customer), "onbill")
    store.put(account_db(customer), {**onbill, "aggregate_invoice": True})
    reseller_onbill = store.get(account_db(world.reseller), "onbill")
    store.put(account_db(world.reseller), {**reseller_onbill, "documents_to": "reseller"})
    store.put(
        account_db(world.reseller),
        stamp(
            {"_id": "user-boss", "username": "boss", "email": "boss@volna.example", "priv_level": "admin"},
            world.reseller,
            "user",
        ),
    )
    issued = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    assert [(d.document_type, d.carrier, d.number) for d in issued][-1] == ("aggregated_invoice", "volna", "1")
    db = account_modb(customer, 2026, 11)
    totals = {d.document_type + "/" + d.carrier: store.get(db, d.doc_id)["totals"]["gross"] for d in issued}
    assert totals["aggregated_invoice/volna"] == totals["invoice/volna"] + totals["invoice/volna-intl"] == 100_840
    sink = SmtpSink().start()
    try:
        now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))
        for _ in range(2):
            process_due_documents(
                store,
                WeasyRenderer(),
                SmtpMailer("127.0.0.1", sink.port),
                sender="billing@volna.example",
                now_gregorian=now,
            )
    finally:
        sink.stop()
    assert {m["X-Envelope-To"] for m in sink.received} == {"boss@volna.example"} and len(sink.received) == 4
    aggregated = pdf_text(store, db, issued[-1].doc_id, "aggregated_invoice-1.pdf", tmp_path)
    assert "Сводный счёт № 1" in aggregated and "1 008,40" in aggregated


def test_the_crawl_issues_a_period_once_and_again_only_if_it_never_finished(period):
    from bookkeeper.services.documents.period_documents import issue_documents_if_due

    world, customer, ports = period
    day_two = datetime(2026, 12, 2).date()
    assert [e.name for e in issue_documents_if_due(ports, customer, datetime(2026, 12, 3).date())] == []  # not day 2
    first = issue_documents_if_due(ports, customer, day_two)
    assert [(e.name, e.details["count"]) for e in first] == [("documents_issued", 3)]
    assert issue_documents_if_due(ports, customer, day_two) == []  # the crawl of that day again
    marker = world.store.get(account_db(customer), "kazbill_period_documents-2026-11-01")
    world.store.delete(account_db(customer), marker["_id"], marker["_rev"])  # as if it died before the end
    assert [e.name for e in issue_documents_if_due(ports, customer, day_two)] == ["documents_issued"]
    numbers = {
        d["number"]
        for d in (
            world.store.get(account_modb(customer, 2026, 11), row.id)
            for row in world.store.all_docs(account_modb(customer, 2026, 11)).rows
            if "-kazbill-doc-" in row.id
        )
    }
    assert numbers == {"В-2026-100", "1"}  # the same numbers, nothing new drawn


def test_documents_are_emailed_no_faster_than_the_configured_rate(period):
    world, customer, ports = period
    store = world.store
    issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    sink = SmtpSink().start()
    minute = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK)) // 60 * 60
    try:
        renderer, mailer = WeasyRenderer(), SmtpMailer("127.0.0.1", sink.port)

        def one_pass(now: int):
            return process_due_documents(
                store, renderer, mailer, sender="billing@volna.example", now_gregorian=now, mails_per_minute=2
            )

        assert one_pass(minute).rendered == 3
        second, third = one_pass(minute + 10), one_pass(minute + 20)
        assert (second.emailed, second.throttled, third.emailed, third.throttled) == (
            2,
            1,
            0,
            0,
        )  # waits for the minute
        assert one_pass(minute + 60).emailed == 1
    finally:
        sink.stop()
    assert len(sink.received) == 3


def test_a_period_issued_again_is_rendered_again_and_emailed_again_only_when_asked(period):
    """Regenerating a period (a corrected template, a late Kazoo entry) used to email the
    customer every document again; now the admins get them once, and again only on request."""
    world, customer, ports = period
    store, db = world.store, account_modb(customer, 2026, 11)
    sink = SmtpSink().start()
    renderer, mailer = WeasyRenderer(), SmtpMailer("127.0.0.1", sink.port)
    now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))

    def passes() -> tuple[int, int]:
        first = process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
        second = process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
        return first.rendered + second.rendered, first.emailed + second.emailed

    try:
        issued = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
        assert [d.email for d in issued] == [True, True, True]
        assert passes() == (3, 3)
        again = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
        assert [d.email for d in again] == [False, False, False]
        assert passes() == (3, 0)  # rendered anew, nobody emailed
        invoice = store.get(db, issued[0].doc_id)
        assert invoice["state"] == "rendered" and invoice["_attachments"]
        assert [step["state"] for step in invoice["state_history"]].count("emailed") == 1
        assert len(sink.received) == 3
        asked = issue_period_documents(ports, customer, datetime(2026, 11, 1).date(), email=True)
        assert [d.email for d in asked] == [True, True, True]
        assert passes() == (3, 3)
        assert len(sink.received) == 6
        assert [d.number for d in asked] == [d.number for d in issued]
    finally:
        sink.stop()


def test_documents_issued_again_before_they_were_ever_sent_are_still_sent(period):
    """A crawl that died after issuing, before the mailer ran, issues the period again: nobody
    has the documents yet, so they are emailed."""
    world, customer, ports = period
    store = world.store
    issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    again = issue_period_documents(ports, customer, datetime(2026, 11, 1).date())
    assert [d.email for d in again] == [True, True, True]
    sink = SmtpSink().start()
    try:
        now = gregorian(datetime(2026, 12, 2, 9, 1, tzinfo=MSK))
        renderer, mailer = WeasyRenderer(), SmtpMailer("127.0.0.1", sink.port)
        for _ in range(2):
            process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
    finally:
        sink.stop()
    assert len(sink.received) == 3
