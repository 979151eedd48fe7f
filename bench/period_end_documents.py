"""The period-end part of bench/documents.py: N accounts with a month of charges and a call each
on the embedded store; their documents issued (the invoices as Factur-X, the carrier being in
the EU), then rendered and emailed to a real SMTP server by worker processes running document
passes, as the troupe does."""

from __future__ import annotations

import multiprocessing
import resource
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.record import record
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.adapters.smtp_mailer import SmtpMailer
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.documents.document_queue import process_due_documents
from bookkeeper.services.documents.period_documents import DocumentPorts, issue_period_documents
from bookkeeper.services.rating.call_rating import bill_call
from bookkeeper.services.rating.rate_decks import import_rate_deck
from documents.render import WeasyRenderer
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL
from testkit.support.smtp_sink import SmtpSink

MSK = ZoneInfo("Europe/Moscow")
DONE_AT = datetime(2026, 12, 2, 9, 0, tzinfo=MSK)


def _passes(path: str, smtp_port: int, now: int) -> int:
    store, renderer = EmbeddedStore(Path(path)), WeasyRenderer()
    mailer, done, idle = SmtpMailer("127.0.0.1", smtp_port), 0, 0
    while idle < 2:  # a pass that found nothing, twice: the queue is empty for this worker
        result = process_due_documents(store, renderer, mailer, sender="billing@volna.example", now_gregorian=now)
        done += result.emailed
        idle = idle + 1 if result.rendered + result.emailed + result.retrying == 0 else 0
    store.close()
    return done


def period_end(accounts: int, workers: int, workdir: Path) -> None:
    path = workdir / "period-end.sqlite3"
    store = EmbeddedStore(path)
    world = World(store).build(
        reseller_onbill={
            **RESELLER_ONBILL,
            "vat_disposition": "brutto",
            "vat_rate": 20,
            "default_rate_deck": "retail",
            # An EU carrier: its invoices are Factur-X (PDF/A-3 with the CII XML), as issue 21 asks
            # the period end to be measured; the acts are plain PDFs.
            "carriers": [
                {
                    "id": "volna",
                    "name": "Volna Europe GmbH",
                    "main": True,
                    "legal": {"address": "Friedrichstraße 1, 10117 Berlin", "country": "DE", "vat_id": "DE123456789"},
                }
            ],
        },
        plan=OFFICE_PLAN,
    )
    import_rate_deck(store, world.reseller, "retail", ["prefix,rate_cost", "7,1.20"])
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    ended = to_gregorian_seconds(int(datetime(2026, 11, 10, 11, 0, tzinfo=MSK).timestamp()))
    started = time.perf_counter()
    customers = []
    for n in range(accounts):
        customer = world.customer(
            f"C{n}",
            created=datetime(2026, 1, 10, tzinfo=MSK),
            onbill={"billing_day": 1, "legal": {"address": f"Torstraße {n}, 10119 Berlin", "country": "DE"}},
            limits=GENEROUS,
            devices=1,
        )
        store.put(
            account_db(customer),
            stamp(
                {"_id": "user-admin", "username": f"admin{n}", "priv_level": "admin", "email": f"admin{n}@example.net"},
                customer,
                "user",
            ),
        )
        reconcile_account(ports, customer)
        bill_call(ports, FinishedCall(customer, f"call-{n}", 95, "74951234567", "outbound", True, ended))
        customers.append(customer)
    print(f"\nperiod end for {accounts:,} accounts (embedded store; set up in {time.perf_counter() - started:.0f} s):")
    clock.set(DONE_AT)
    documents = DocumentPorts(store, clock, world.design_docs)
    started = time.perf_counter()
    issued = sum(
        len(issue_period_documents(documents, customer, datetime(2026, 11, 1).date())) for customer in customers
    )
    issuing = time.perf_counter() - started
    print(
        f"  issued {issued:,} documents (lines, numbers, data; the invoices Factur-X) in {issuing:.1f} s: "
        f"{issued / issuing:,.0f}/s"
    )
    store.close()
    sink = SmtpSink().start()
    now = to_gregorian_seconds(int(DONE_AT.timestamp())) + 60
    try:
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            emailed = sum(pool.starmap(_passes, [(str(path), sink.port, now)] * workers))
        elapsed = time.perf_counter() - started
    finally:
        sink.stop()
    print(
        f"  rendered and emailed {emailed:,} documents with {workers} workers in {elapsed:.1f} s: "
        f"{emailed / elapsed:.1f} documents/s; the SMTP server received {len(sink.received):,}"
    )
    print(
        f"  a period end of {accounts:,} accounts, issue to mailbox: {issuing + elapsed:.0f} s "
        f"(10,000 accounts at this rate: {(issuing + elapsed) * 10_000 / accounts / 60:.0f} min)"
    )
    print(f"  peak memory of a worker: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    record("period_end.documents_issued", issued / issuing, "documents/s")
    record(
        "period_end.rendered_and_emailed", emailed / elapsed, "documents/s", reference="documents.1_page.fresh_renderer"
    )
    record("period_end.issue_to_mailbox", issuing + elapsed, f"s for {accounts:,} accounts", higher_is_better=False)
    record(
        "period_end.worker_peak_memory",
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "MB",
        higher_is_better=False,
    )
