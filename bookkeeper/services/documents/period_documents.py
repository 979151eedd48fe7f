"""A closed period's documents for one account: the lines from its ledger, and for each carrier
with something to bill its invoice and act (and, on demand, its calls report), issued through
document_issue; an aggregated invoice from the main carrier when the account asks for one.

Regenerating a period rewrites the same documents (deterministic ids) with the numbers they
already had; a carrier with nothing to bill issues nothing; a period that is not over yet is
refused. Without carriers the reseller issues everything itself, as one carrier named after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bookkeeper.domain.added_vat import as_priced
from bookkeeper.domain.documents.calls_report import call_rows
from bookkeeper.domain.documents.invoice_lines import invoice_lines, lines_of
from bookkeeper.domain.documents.numbering import NumberingError, require_closed
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.periods import Period, local_day_of_gregorian, period_containing
from bookkeeper.ports import Conflict, DocumentStore, ViewQuery, gregorian_now
from bookkeeper.services.billing.context import BillingContext, BillingInputError, get_or_none, load_context
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, next_month, previous_month
from bookkeeper.services.documents.document_issue import (
    DocumentPorts,
    DocumentRequestError,
    IssuedDocument,
    Issuer,
    NoCarrier,
)
from bookkeeper.services.hooks_out.outbox import queue_webhooks

PERIOD_TYPES = ("invoice", "act")  # what a period end issues; the other types are made on demand
__all__ = [
    "PERIOD_TYPES",
    "DocumentPorts",
    "DocumentRequestError",
    "IssuedDocument",
    "NoCarrier",
    "issue_period_documents",
    "issue_documents_if_due",
    "closed_period",
]


def closed_period(context: BillingContext, start: date, today: date) -> Period:
    period = period_containing(context.account.billing_day, start)
    if period.start != start:
        raise DocumentRequestError(
            "period",
            f"no period starts on {start.isoformat()}; the account's periods "
            f"start on day {context.account.billing_day}",
        )
    try:
        require_closed(period.end, today)
    except NumberingError as error:
        raise DocumentRequestError(error.field, error.reason) from None
    return period


def issue_period_documents(
    ports: DocumentPorts,
    account_id: str,
    start: date,
    kinds: Sequence[str] = PERIOD_TYPES,
    *,
    email: bool | None = None,
    only: tuple[str, str] | None = None,
) -> list[IssuedDocument]:
    """The period's documents of `kinds`: invoices and acts (as each carrier issues them), and on
    demand calls reports (for each carrier that carried calls). Each is emailed once rendered
    unless its admins were emailed it before; `email` True or False decides for every one.
    `only` (carrier id, family): just that carrier's invoice family or its aggregated invoice,
    as a voided one is issued again. A family voided before is issued under new numbers (and
    new ids): the voided documents stay as they were."""
    issuer = Issuer.of(ports, account_id)
    context, tz = issuer.context, issuer.context.reseller.timezone
    period = closed_period(context, start, local_day_of_gregorian(issuer.now, tz))
    carriers = issuer.carriers()
    entries = as_priced(_period_entries(ports, account_id, period), context.reseller.vat_disposition)
    call_carriers = [carrier.as_call_carrier() for carrier in carriers]
    lines = invoice_lines(entries, period.start, period.end, context.reseller.currency, tz, call_carriers)
    reissues = reissue_generations(ports.store, account_id, period.start)

    def numbered_as(carrier_id: str, family: str) -> tuple[str, str]:
        """The subject its number is reserved for and the id's suffix: the period's, or after a
        void the period's n-th issue (a new number)."""
        generation = reissues.get(f"{carrier_id}/{family}", 0)
        again = f"r{generation}" if generation else ""
        return (
            f"{account_id}-{period.start.isoformat()}" + (f"-{again}" if again else ""),
            period.start.strftime("%Y%m%d") + again,
        )

    span = (period.start, period.end)
    issued: list[IssuedDocument] = []
    for carrier in carriers:
        own = lines_of(lines, carrier.id)
        if not own or (only is not None and (only[0] != carrier.id or only[1] != INVOICE_FAMILY)):
            continue  # a carrier with nothing to bill issues nothing
        subject, suffix = numbered_as(carrier.id, INVOICE_FAMILY)
        for kind in (k for k in kinds if k in carrier.document_types or k == "calls_report"):
            shown_lines, extra = own, {}
            if kind == "calls_report":  # the calls themselves, for a carrier that carried some
                shown_lines = [line for line in own if line.kind == "calls"]
                if not shown_lines:
                    continue
                extra["calls"] = call_rows(
                    entries, period.start, period.end, context.reseller.currency, tz, call_carriers, carrier.id
                )
            issued.append(
                issuer.issue(
                    carrier,
                    kind,
                    subject=subject,
                    issued_on=period.end,
                    period=span,
                    lines=shown_lines,
                    id_suffix=suffix,
                    extra=extra,
                    email=email,
                )
            )
    invoicing = {c.id for c in carriers if lines_of(lines, c.id) and "invoice" in c.document_types}
    main = issuer.main_carrier()
    aggregated = only is None or only == (main.id, "aggregated_invoice")
    if aggregated and "invoice" in kinds and context.account.aggregate_invoice and len(invoicing) > 1:
        # The account asked for one invoice with every carrier's lines: the main carrier issues
        # it, in a sequence of its own, besides the carriers' invoices.
        subject, suffix = numbered_as(main.id, "aggregated_invoice")
        issued.append(
            issuer.issue(
                main,
                "aggregated_invoice",
                subject=subject,
                issued_on=period.end,
                period=span,
                lines=lines,
                id_suffix=suffix,
                email=email,
            )
        )
    return issued


INVOICE_FAMILY = "invoice"  # an invoice, its act and its calls report: numbered, and voided, together


def family_of(document_type: str) -> str:
    return "aggregated_invoice" if document_type == "aggregated_invoice" else INVOICE_FAMILY


def _reissues_id(period_start: date) -> str:
    return f"kazbill_reissues-{period_start.isoformat()}"


def reissue_generations(store: DocumentStore, account_id: str, period_start: date) -> dict[str, int]:
    """How many times each family of the period was voided and issued again ("carrier/family")."""
    doc = get_or_none(store, account_db(account_id), _reissues_id(period_start)) or {}
    return {key: int(value) for key, value in (doc.get("generations") or {}).items()}


def set_generation(
    store: DocumentStore, account_id: str, period_start: date, carrier_id: str, family: str, generation: int
) -> None:
    """The family is issued from now on as its `generation`-th issue (never back to an earlier one:
    a repeat of a void sets what it set)."""
    db, doc_id, key = account_db(account_id), _reissues_id(period_start), f"{carrier_id}/{family}"
    for _ in range(50):
        doc = get_or_none(store, db, doc_id) or {"_id": doc_id, "pvt_type": "kazbill_reissues", "generations": {}}
        generations = dict(doc.get("generations") or {})
        if int(generations.get(key, 0)) >= generation:
            return
        try:
            store.put(db, {**doc, "generations": {**generations, key: generation}})
            return
        except Conflict:
            continue
    raise DocumentRequestError("doc_id", "too much contention voiding this period's documents; try again")


def _period_entries(ports: DocumentPorts, account_id: str, period: Period) -> list[dict[str, Any]]:
    """The ledger of the months the period spans, the month before (a reseller east of UTC
    charges its first day while Kazoo's UTC month is the previous one) and the month after (an
    entry for a day of the period written after its month was over lands there; see LedgerBook)."""
    book, entries = LedgerBook(ports.store, ports.design_docs), []
    last = next_month((period.end.year, period.end.month))
    for month in months_from(previous_month((period.start.year, period.start.month)), last):
        db = book.month_db(account_id, month, create=False)
        if db is None:
            continue
        rows = ports.store.query_view(
            db, "kazbill_ledgers", "balance_by_created", ViewQuery(reduce=False, include_docs=True)
        ).rows
        entries += [row.doc for row in rows if row.doc]
    return entries


def issue_documents_if_due(
    ports: DocumentPorts, account_id: str, day: date, settings_reads: DocumentStore | None = None
) -> list[BillingEvent]:
    """The crawl's part: on the second day of a period (a day for the last calls of the closed one
    to land), issue the closed period's documents, once. Only for resellers that configured their
    carriers: documents carry legal details no one else can supply, and a reseller that set none
    did not ask to send any (it can still issue them through the API). `settings_reads`: where
    the account's settings are read to decide (the crawl's batch, which holds the resellers' and
    the accounts' documents already: most days nothing is due, and deciding cost five requests);
    the documents themselves are always made from `ports.store`."""
    try:
        context = load_context(settings_reads or ports.store, account_id)
    except BillingInputError:
        return []  # the crawl recorded why already
    if not context.billable or not context.reseller.carriers:
        return []
    current = period_containing(context.account.billing_day, day)
    if day != current.start + timedelta(days=1):
        return []
    closed = period_containing(context.account.billing_day, current.start - timedelta(days=1))
    if closed.end < local_day_of_gregorian(context.account.created, context.reseller.timezone) or _issued_before(
        ports, account_id, closed
    ):
        return []
    try:
        issued = issue_period_documents(ports, account_id, closed.start)
    except DocumentRequestError as error:
        return [BillingEvent("documents_refused", account_id, {"field": error.field, "reason": error.reason})]
    _mark_issued(ports, account_id, closed, len(issued))
    return [documents_issued(ports, account_id, closed.start, issued)]


def documents_issued(
    ports: DocumentPorts, account_id: str, period_start: date, issued: Sequence[IssuedDocument]
) -> BillingEvent:
    """The event of a period's documents issued, queued as a webhook (invoice.issued) for the
    resellers above that want it."""
    event = BillingEvent(
        "documents_issued",
        account_id,
        {
            "period": period_start.isoformat(),
            "count": len(issued),
            "documents": [
                {"id": doc.doc_id, "type": doc.document_type, "number": doc.number, "carrier": doc.carrier}
                for doc in issued
            ],
        },
    )
    queue_webhooks(ports.store, [event], gregorian_now(ports.clock))
    return event


def _marker(account_id: str, period: Period) -> tuple[str, str]:
    return account_db(account_id), f"kazbill_period_documents-{period.start.isoformat()}"


def _issued_before(ports: DocumentPorts, account_id: str, period: Period) -> bool:
    """Written only once every document of the period was issued: a crawl that died half-way
    issues them all again (the same numbers), one that finished never does."""
    db, doc_id = _marker(account_id, period)
    return get_or_none(ports.store, db, doc_id) is not None


def _mark_issued(ports: DocumentPorts, account_id: str, period: Period, count: int) -> None:
    db, doc_id = _marker(account_id, period)
    ports.store.bulk_put(
        db,
        [
            {
                "_id": doc_id,
                "pvt_type": "kazbill_period_documents",
                "period": period.start.isoformat(),
                "documents": count,
            }
        ],
    )  # a conflict: another crawl marked it first
