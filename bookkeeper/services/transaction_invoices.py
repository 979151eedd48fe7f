"""An invoice for one payment (a customer's accountant asks for a document for the money it
sent): issued by the main carrier for a credit in the account's ledger, numbered in its
`transaction_invoice` sequence; the same payment always gets the same document and number."""
from __future__ import annotations

import re

from bookkeeper.domain.charges import month_prefix
from bookkeeper.domain.documents.document_data import document_data, document_id
from bookkeeper.domain.documents.invoice_lines import InvoiceLine, minor_of
from bookkeeper.domain.documents.numbering import sequence_key, shown_number
from bookkeeper.domain.documents.vat import VatPolicy
from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.ports import DatabaseNotFound, NotFound
from bookkeeper.services.context import get_or_none, load_context
from bookkeeper.services.document_numbers import NumberSequence, reserve
from bookkeeper.services.document_queue import enqueue_render
from bookkeeper.services.ledger_book import LedgerBook, months_from
from bookkeeper.services.payments import GATEWAY_CREDITS, MANUAL_CREDITS
from bookkeeper.services.period_documents import (
    DocumentPorts, DocumentRequestError, IssuedDocument, carriers_of, store_document,
)

KIND = "transaction_invoice"
_ENTRY = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})-.+")


def issue_transaction_invoice(ports: DocumentPorts, account_id: str, entry_id: str) -> IssuedDocument:
    store, context = ports.store, load_context(ports.store, account_id)
    now = to_gregorian_seconds(int(ports.clock.now().timestamp()))
    entry = _payment(ports, account_id, entry_id, local_day_of_gregorian(now, context.reseller.timezone))
    paid_on = local_day_of_gregorian(int(entry.get("pvt_created") or now), context.reseller.timezone)
    reseller_doc = get_or_none(store, account_db(context.reseller_id), context.reseller_id) or {}
    main = next(c for c in carriers_of(context, str(reseller_doc.get("name") or "")) if c.main)
    sequence = NumberSequence(sequence_key(context.reseller_id, main, KIND, paid_on), main.numbering_of(KIND).start)
    number = reserve(store, sequence, [entry_id], now_gregorian=now)[entry_id]
    shown = shown_number(main, KIND, number, paid_on)
    line = InvoiceLine("one_time", main.id, "payment", 1, None, minor_of(int(entry["amount"]), context.reseller.currency))
    onbill = get_or_none(store, account_db(account_id), "onbill") or {}
    customer = {"id": account_id, "name": context.account_name,
                "legal": {k: v for k, v in (onbill.get("legal") or {}).items() if isinstance(v, str)}}
    data = document_data(document_type=KIND, carrier=main, customer=customer, period_start=paid_on, period_end=paid_on,
                         issued=paid_on, number=shown, sequence_number=number, currency=context.reseller.currency,
                         language=context.account.language[:2],
                         vat=VatPolicy(context.reseller.vat_disposition, context.reseller.vat_rate), lines=[line])
    db = LedgerBook(store, ports.design_docs).month_db(account_id, (paid_on.year, paid_on.month), create=True)
    doc_id = document_id(month_prefix(paid_on), KIND, main.id, f"{number:08d}")
    store_document(store, db, doc_id, {**data, "reseller_id": context.reseller_id, "entry_id": entry_id,
                                       "payment": (entry.get("source") or {}).get("service")}, account_id, now)
    enqueue_render(store, db, doc_id, account_id, now)
    return IssuedDocument(db, doc_id, KIND, main.id, shown)


def _payment(ports: DocumentPorts, account_id: str, entry_id: str, today) -> dict:
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
        if entry.get("pvt_type") != "ledger" or entry.get("pvt_ledger_type") != "credit" or \
                (entry.get("source") or {}).get("service") not in GATEWAY_CREDITS + MANUAL_CREDITS:
            raise DocumentRequestError("entry_id", "only a payment (a credit from a gateway or a transfer) is invoiced")
        return entry
    raise DocumentRequestError("entry_id", f"no entry {entry_id} in the account's ledger")
