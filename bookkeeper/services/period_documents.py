"""A closed period's documents for one account: the lines from its ledger, a number from each
carrier's sequence, the data stored in the account's monthly database and queued to be rendered.

Regenerating a period rewrites the same documents (deterministic ids) with the numbers they
already had; a carrier with nothing to bill issues nothing; a period that is not over yet is
refused. Without carriers the reseller issues everything itself, as one carrier named after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Sequence

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.charges import month_prefix
from bookkeeper.domain.documents.calls_report import call_rows
from bookkeeper.domain.documents.carriers import Carrier, parse_carriers
from bookkeeper.domain.documents.document_data import document_data, document_id
from bookkeeper.domain.documents.invoice_lines import invoice_lines, lines_of
from bookkeeper.domain.documents.numbering import (
    NumberingError, numbered_type, require_closed, sequence_key, shown_number,
)
from bookkeeper.domain.documents.vat import VatPolicy
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.domain.periods import Period, local_day_of_gregorian, period_containing
from bookkeeper.ports import Clock, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.context import BillingContext, BillingInputError, get_or_none, load_context
from bookkeeper.services.document_queue import enqueue_render
from bookkeeper.services.events import BillingEvent
from bookkeeper.services.document_numbers import NumberSequence, reserve
from bookkeeper.services.ledger_book import LedgerBook, months_from, next_month

PERIOD_TYPES = ("invoice", "act")  # what a period end issues; the other types are made on demand


@dataclass(frozen=True)
class DocumentPorts:
    store: DocumentStore
    clock: Clock
    design_docs: tuple[DesignDoc, ...] | list[DesignDoc]


@dataclass(frozen=True)
class IssuedDocument:
    db: str
    doc_id: str
    document_type: str
    carrier: str
    number: str


class DocumentRequestError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def carriers_of(context: BillingContext, reseller_name: str) -> tuple[Carrier, ...]:
    return parse_carriers(context.reseller.carriers) or (Carrier("main", reseller_name or "Reseller", main=True),)


def closed_period(context: BillingContext, start: date, today: date) -> Period:
    period = period_containing(context.account.billing_day, start)
    if period.start != start:
        raise DocumentRequestError("period", f"no period starts on {start.isoformat()}; the account's periods "
                                             f"start on day {context.account.billing_day}")
    try:
        require_closed(period.end, today)
    except NumberingError as error:
        raise DocumentRequestError(error.field, error.reason) from None
    return period


def issue_period_documents(ports: DocumentPorts, account_id: str, start: date,
                           kinds: Sequence[str] = PERIOD_TYPES) -> list[IssuedDocument]:
    """The period's documents of `kinds`: invoices and acts (as each carrier issues them), and on
    demand calls reports (for each carrier that carried calls)."""
    context = load_context(ports.store, account_id)
    now = to_gregorian_seconds(int(ports.clock.now().timestamp()))
    tz = context.reseller.timezone
    period = closed_period(context, start, local_day_of_gregorian(now, tz))
    reseller_doc = get_or_none(ports.store, account_db(context.reseller_id), context.reseller_id) or {}
    carriers = carriers_of(context, str(reseller_doc.get("name") or ""))
    entries = _period_entries(ports, account_id, period)
    call_carriers = [carrier.as_call_carrier() for carrier in carriers]
    lines = invoice_lines(entries, period.start, period.end, context.reseller.currency, tz, call_carriers)
    onbill = get_or_none(ports.store, account_db(account_id), "onbill") or {}
    customer = {"id": account_id, "name": context.account_name,
                "legal": {k: v for k, v in (onbill.get("legal") or {}).items() if isinstance(v, str)}}
    vat = VatPolicy(context.reseller.vat_disposition, context.reseller.vat_rate)
    issued_on, subject = period.end, f"{account_id}-{period.start.isoformat()}"
    book = LedgerBook(ports.store, ports.design_docs)
    db = book.month_db(account_id, (issued_on.year, issued_on.month), create=True)
    issued: list[IssuedDocument] = []
    for carrier in carriers:
        own = lines_of(lines, carrier.id)
        if not own:
            continue  # a carrier with nothing to bill issues nothing
        for kind in (k for k in kinds if k in carrier.document_types or k == "calls_report"):
            shown_lines, extra = own, {}
            if kind == "calls_report":  # the calls themselves, for a carrier that carried some
                shown_lines = [line for line in own if line.kind == "calls"]
                if not shown_lines:
                    continue
                extra["calls"] = call_rows(entries, period.start, period.end, context.reseller.currency, tz,
                                           call_carriers, carrier.id)
            numbered = numbered_type(carrier, kind)
            sequence = NumberSequence(sequence_key(context.reseller_id, carrier, numbered, issued_on),
                                      carrier.numbering_of(numbered).start)
            number = reserve(ports.store, sequence, [subject], now_gregorian=now)[subject]
            shown = shown_number(carrier, numbered, number, issued_on)
            data = document_data(document_type=kind, carrier=carrier, customer=customer, period_start=period.start,
                                 period_end=period.end, issued=issued_on, number=shown, sequence_number=number,
                                 currency=context.reseller.currency, language=context.account.language[:2],
                                 vat=vat, lines=shown_lines)
            doc_id = document_id(month_prefix(issued_on), kind, carrier.id, period.start.strftime("%Y%m%d"))
            store_document(ports.store, db, doc_id, {**data, **extra, "reseller_id": context.reseller_id}, account_id,
                           now)
            enqueue_render(ports.store, db, doc_id, account_id, now)
            issued.append(IssuedDocument(db, doc_id, kind, carrier.id, shown))
    issuing = {doc.carrier for doc in issued if doc.document_type == "invoice"}
    if "invoice" in kinds and context.account.aggregate_invoice and len(issuing) > 1:
        issued.append(_aggregated(ports, context, carriers, lines, customer, vat, period, subject, db, now))
    return issued


def _aggregated(ports: DocumentPorts, context: BillingContext, carriers: Sequence[Carrier], lines, customer,
                vat: VatPolicy, period: Period, subject: str, db: str, now: int) -> IssuedDocument:
    """The account asked for one invoice with every carrier's lines: the main carrier issues it,
    in a sequence of its own, besides the carriers' invoices."""
    main = next(carrier for carrier in carriers if carrier.main)
    kind, issued_on = "aggregated_invoice", period.end
    sequence = NumberSequence(sequence_key(context.reseller_id, main, kind, issued_on), main.numbering_of(kind).start)
    number = reserve(ports.store, sequence, [subject], now_gregorian=now)[subject]
    shown = shown_number(main, kind, number, issued_on)
    data = document_data(document_type=kind, carrier=main, customer=customer, period_start=period.start,
                         period_end=period.end, issued=issued_on, number=shown, sequence_number=number,
                         currency=context.reseller.currency, language=context.account.language[:2], vat=vat,
                         lines=lines)
    doc_id = document_id(month_prefix(issued_on), kind, main.id, period.start.strftime("%Y%m%d"))
    store_document(ports.store, db, doc_id, {**data, "reseller_id": context.reseller_id}, context.account_id, now)
    enqueue_render(ports.store, db, doc_id, context.account_id, now)
    return IssuedDocument(db, doc_id, kind, main.id, shown)


def _period_entries(ports: DocumentPorts, account_id: str, period: Period) -> list[dict[str, Any]]:
    """The ledger of the months the period spans, and the month after: an entry for a day of the
    period written after its month was over lands there (see LedgerBook)."""
    book, entries = LedgerBook(ports.store, ports.design_docs), []
    last = next_month((period.end.year, period.end.month))
    for month in months_from((period.start.year, period.start.month), last):
        db = book.month_db(account_id, month, create=False)
        if db is None:
            continue
        rows = ports.store.query_view(db, "kazbill_ledgers", "balance_by_created",
                                      ViewQuery(reduce=False, include_docs=True)).rows
        entries += [row.doc for row in rows if row.doc]
    return entries


def store_document(store: DocumentStore, db: str, doc_id: str, data: dict[str, Any], account_id: str,
                   now: int) -> None:
    """Write the document's data; a regeneration replaces the data and drops the old PDF (it is
    rendered again), keeping the state history."""
    try:
        current = store.get(db, doc_id)
    except NotFound:
        current = None
    history = list((current or {}).get("state_history") or [])
    history.append({"state": "queued", "at": now})
    doc = {"_id": doc_id, "pvt_type": "kazbill_document", **data, "state": "queued", "state_history": history[-20:],
           "pvt_account_id": account_id, "pvt_account_db": db, "pvt_created": (current or {}).get("pvt_created", now),
           "pvt_modified": now}
    if current is not None:
        doc["_rev"] = current["_rev"]
    store.put(db, doc)




def issue_documents_if_due(ports: DocumentPorts, account_id: str, day: date) -> list[BillingEvent]:
    """The crawl's part: on the second day of a period (a day for the last calls of the closed one
    to land), issue the closed period's documents, once. Only for resellers that configured their
    carriers: documents carry legal details no one else can supply, and a reseller that set none
    did not ask to send any (it can still issue them through the API)."""
    try:
        context = load_context(ports.store, account_id)
    except BillingInputError:
        return []  # the crawl recorded why already
    if not context.billable or not context.reseller.carriers:
        return []
    current = period_containing(context.account.billing_day, day)
    if day != current.start + timedelta(days=1):
        return []
    closed = period_containing(context.account.billing_day, current.start - timedelta(days=1))
    if closed.end < local_day_of_gregorian(context.account.created, context.reseller.timezone) or \
            _issued_before(ports, account_id, closed):
        return []
    try:
        issued = issue_period_documents(ports, account_id, closed.start)
    except DocumentRequestError as error:
        return [BillingEvent("documents_refused", account_id, {"field": error.field, "reason": error.reason})]
    _mark_issued(ports, account_id, closed, len(issued))
    return [BillingEvent("documents_issued", account_id, {"period": closed.start.isoformat(), "count": len(issued)})]


def _marker(account_id: str, period: Period) -> tuple[str, str]:
    return account_db(account_id), f"kazbill_period_documents-{period.start.isoformat()}"


def _issued_before(ports: DocumentPorts, account_id: str, period: Period) -> bool:
    """Written only once every document of the period was issued: a crawl that died half-way
    issues them all again (the same numbers), one that finished never does."""
    db, doc_id = _marker(account_id, period)
    return get_or_none(ports.store, db, doc_id) is not None


def _mark_issued(ports: DocumentPorts, account_id: str, period: Period, count: int) -> None:
    db, doc_id = _marker(account_id, period)
    ports.store.bulk_put(db, [{"_id": doc_id, "pvt_type": "kazbill_period_documents", "period": period.start.isoformat(),
                               "documents": count}])  # a conflict: another crawl marked it first
