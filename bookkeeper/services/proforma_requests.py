"""A pro-forma invoice (to pay by bank transfer): the customer's request for an amount is recorded
in the account's database, then issued at once by the reseller's main carrier (a number from its
`proforma` sequence, the data in the account's monthly database) and queued for the document
workers to render and email. Nothing about money changes: the transfer, when it arrives, is a
wire-transfer credit like any other, and the pro-forma's number is what the payer quotes."""
from __future__ import annotations

import uuid
from datetime import timedelta

from bookkeeper.domain.charges import month_prefix
from bookkeeper.domain.documents.document_data import document_data, document_id
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.numbering import sequence_key, shown_number
from bookkeeper.domain.documents.vat import VatPolicy
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.domain.money import to_minor_units
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.ports import DocumentStore
from bookkeeper.services.context import get_or_none, load_context
from bookkeeper.services.document_numbers import NumberSequence, reserve
from bookkeeper.services.document_queue import enqueue_render
from bookkeeper.services.ledger_book import LedgerBook
from bookkeeper.services.period_documents import DocumentPorts, IssuedDocument, carriers_of, store_document

VALID_DAYS = 10  # how long a pro-forma's terms hold: shown as its "valid until"


def request_proforma(store: DocumentStore, account_id: str, *, amount: int, currency: str, by: str,
                     now_gregorian: int) -> str:
    doc_id = f"kazbill_proforma_request-{uuid.uuid4().hex}"
    store.put(account_db(account_id), {"_id": doc_id, "pvt_type": "kazbill_proforma_request", "amount": amount,
                                       "currency": currency, "requested_by": by, "state": "requested",
                                       "pvt_created": now_gregorian})
    return doc_id


def issue_proforma(ports: DocumentPorts, account_id: str, request_id: str) -> IssuedDocument:
    """The pro-forma for a recorded request; issuing it again gives the same number and document."""
    store = ports.store
    request = store.get(account_db(account_id), request_id)
    context = load_context(store, account_id)
    now = to_gregorian_seconds(int(ports.clock.now().timestamp()))
    issued_on = local_day_of_gregorian(request["pvt_created"], context.reseller.timezone)
    reseller_doc = get_or_none(store, account_db(context.reseller_id), context.reseller_id) or {}
    carrier = next(c for c in carriers_of(context, str(reseller_doc.get("name") or "")) if c.main)
    sequence = NumberSequence(sequence_key(context.reseller_id, carrier, "proforma", issued_on),
                              carrier.numbering_of("proforma").start)
    number = reserve(store, sequence, [request_id], now_gregorian=now)[request_id]
    shown = shown_number(carrier, "proforma", number, issued_on)
    minor = to_minor_units(int(request["amount"]), context.reseller.currency)
    line = InvoiceLine("one_time", carrier.id, "advance payment", 1, None,
                       int(minor.scaleb(-minor.as_tuple().exponent)))
    onbill = get_or_none(store, account_db(account_id), "onbill") or {}
    customer = {"id": account_id, "name": context.account_name,
                "legal": {k: v for k, v in (onbill.get("legal") or {}).items() if isinstance(v, str)}}
    data = document_data(document_type="proforma", carrier=carrier, customer=customer, period_start=issued_on,
                         period_end=issued_on + timedelta(days=VALID_DAYS), issued=issued_on, number=shown,
                         sequence_number=number, currency=context.reseller.currency,
                         language=context.account.language[:2],
                         vat=VatPolicy(context.reseller.vat_disposition, context.reseller.vat_rate), lines=[line])
    db = LedgerBook(store, ports.design_docs).month_db(account_id, (issued_on.year, issued_on.month), create=True)
    doc_id = document_id(month_prefix(issued_on), "proforma", carrier.id, request_id.rsplit("-", 1)[-1][:16])
    store_document(store, db, doc_id, {**data, "reseller_id": context.reseller_id, "request_id": request_id},
                   account_id, now)
    enqueue_render(store, db, doc_id, account_id, now)
    store.put(account_db(account_id), {**store.get(account_db(account_id), request_id), "state": "issued",
                                       "document": {"db": db, "id": doc_id, "number": shown}})
    return IssuedDocument(db, doc_id, "proforma", carrier.id, shown)
