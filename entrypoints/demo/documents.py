"""The demo's documents: after the replayed days, each customer's last closed period (the one
they closed, or the one before) is issued as its reseller would ask for it (PUT onbills/generate;
not emailed, the demo has no mail server), rendered by the service's document workers, and
written out as PDFs to read.

The clock moves just past the last replayed day (00:30 in Berlin, already the next day in
Moscow) and nothing is crawled or reconciled meanwhile, so no new period is opened: the ledger
stays the month's, and the documents add up to what the report above them shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic as time_now
from time import sleep
from zoneinfo import ZoneInfo

from actors.system import HandOffClient
from bookkeeper.adapters.clock import FileClock
from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.money import units_from_minor
from bookkeeper.domain.periods import period_containing
from bookkeeper.money_display import format_money
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import load_context
from bookkeeper.services.documents.document_issue import DocumentPorts, IssuedDocument
from bookkeeper.services.documents.document_mail import pdf_name
from bookkeeper.services.documents.period_documents import issue_period_documents
from entrypoints.demo.world import DemoWorld

BERLIN = ZoneInfo("Europe/Berlin")
RENDER_WAIT_S = 120.0  # how long the demo waits for its documents before it says one was not rendered


@dataclass(frozen=True)
class DemoDocument:
    customer: str
    issued: IssuedDocument
    total: str
    path: Path | None  # None: not rendered (the reason is in the document's state)
    e_invoice: str | None


def issue_the_month(
    world: DemoWorld, ports: BillingPorts, clock: FileClock, client: HandOffClient, last_day: date, out_dir: Path
) -> tuple[list[DemoDocument], list[str]]:
    """(the documents issued and written to `out_dir`, one line per customer that got none)."""
    clock.set(datetime.combine(last_day + timedelta(days=1), time(0, 30), BERLIN))
    document_ports = DocumentPorts(ports.store, clock, ports.design_docs)
    issued: list[tuple[str, IssuedDocument]] = []
    none: list[str] = []
    for name, account_id in world.accounts.items():
        if name not in world.resellers_of:
            continue
        billing_day = load_context(ports.store, account_id).account.billing_day
        period = period_containing(billing_day, last_day)
        if period.end > last_day:  # still running: its last closed one (issued again if the crawl did)
            period = period_containing(billing_day, period.start - timedelta(days=1))
        start = period.start
        try:
            documents = issue_period_documents(document_ports, account_id, start, email=False)
        except FieldError as error:  # a period not over yet, settings a document cannot be made from
            none.append(f"{name}: none ({error.reason})")
            continue
        issued += [(name, doc) for doc in documents]
        if not documents:
            none.append(f"{name}: none (nothing billed in its period from {start:%d %b %Y})")
    # Until every one is rendered: a pass takes what is due and not claimed by a worker already
    # busy with it (the workers' own timer may have started on the crawl's documents).
    deadline = time_now() + RENDER_WAIT_S
    while not all(_rendered(ports, doc) for _, doc in issued) and time_now() < deadline:
        if not client.documents_now().rendered:
            sleep(0.2)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_written(world, ports, name, doc, out_dir) for name, doc in issued], none


def _rendered(ports: BillingPorts, issued: IssuedDocument) -> bool:
    return _has_pdf(ports.store.get(issued.db, issued.doc_id))


def _has_pdf(doc: dict) -> bool:
    return pdf_name(doc) in (doc.get("_attachments") or {})


def _written(world: DemoWorld, ports: BillingPorts, name: str, issued: IssuedDocument, out_dir: Path) -> DemoDocument:
    store = ports.store
    doc = store.get(issued.db, issued.doc_id)
    reseller = world.resellers_of[name]
    currency, locale = doc["currency"], world.reseller_locale(reseller)
    total = format_money(units_from_minor(doc["totals"]["gross"], currency), code=currency, locale=locale)
    path = None
    if _has_pdf(doc):
        path = out_dir / f"{_file_part(name)}-{issued.document_type}-{_file_part(issued.number)}.pdf"
        path.write_bytes(store.get_attachment(issued.db, issued.doc_id, pdf_name(doc)).data)
    return DemoDocument(name, issued, total, path, doc.get("e_invoice"))


def _file_part(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text).strip("-_") or "document"
