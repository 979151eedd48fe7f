"""An invoice for one payment (a customer's accountant asks for a document for the money it
sent): issued by the main carrier for a credit in the account's ledger, numbered in its
`transaction_invoice` sequence; the same payment always gets the same document and number."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from bookkeeper.domain.documents.invoice_lines import InvoiceLine, minor_of
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import entry_reason
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.usage_limits import UsageLimit, UsageLimits
from bookkeeper.ports import DatabaseNotFound, NotFound
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from
from bookkeeper.services.billing.usage_limits import take_allowance
from bookkeeper.services.documents.document_issue import DocumentPorts, DocumentRequestError, IssuedDocument, Issuer
from bookkeeper.services.payments.postings import GATEWAY_CREDITS, MANUAL_CREDITS

KIND = "transaction_invoice"
_ENTRY = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})-.+")


def issue_transaction_invoice(
    ports: DocumentPorts, account_id: str, entry_id: str, *, limit: UsageLimit = UsageLimits().documents
) -> IssuedDocument:
    """The payment's invoice (queued again to be rendered and emailed); LimitReached, nothing
    numbered or queued, when the account has had `limit` of them issued lately."""
    issuer = Issuer.of(ports, account_id)
    tz = issuer.context.reseller.timezone
    entry = _payment(ports, account_id, entry_id, local_day_of_gregorian(issuer.now, tz))
    main = issuer.main_carrier()  # NoCarrier before anything is counted or numbered
    take_allowance(ports.store, account_id, limit, issuer.now)
    paid_on = local_day_of_gregorian(int(entry.get("pvt_created") or issuer.now), tz)
    line = InvoiceLine(
        "one_time", main.id, "payment", 1, None, minor_of(int(entry["amount"]), issuer.context.reseller.currency)
    )
    return issuer.issue(
        main,
        KIND,
        subject=entry_id,
        issued_on=paid_on,
        period=(paid_on, paid_on),
        lines=[line],
        id_suffix=hashlib.sha256(entry_id.encode()).hexdigest()[:16],
        extra={"entry_id": entry_id, "payment": entry_reason(entry)},
        email=True,  # asked for by the customer, each time (and counted against its allowance)
        money_paid=True,
    )


def _payment(ports: DocumentPorts, account_id: str, entry_id: str, today: date) -> dict:
    """The credit, wherever it was written: from its own month to the current one."""
    match = _ENTRY.fullmatch(entry_id)
    if match is None:
        raise DocumentRequestError("entry_id", "not a ledger entry id (YYYYMM-...)")
    book = LedgerBook(ports.store, ports.design_docs)
    for month in months_from((int(match["year"]), int(match["month"])), (today.year, today.month)):
        try:
            entry = ports.store.get(account_modb(account_id, *month), entry_id)
        except (NotFound, DatabaseNotFound):
            continue
        book.month_db(account_id, month, create=False)
        if (
            entry.get("pvt_type") != "ledger"
            or entry.get("pvt_ledger_type") != "credit"
            or entry_reason(entry) not in GATEWAY_CREDITS + MANUAL_CREDITS
        ):
            raise DocumentRequestError("entry_id", "only a payment (a credit from a gateway or a transfer) is invoiced")
        return entry
    raise DocumentRequestError("entry_id", f"no entry {entry_id} in the account's ledger")
