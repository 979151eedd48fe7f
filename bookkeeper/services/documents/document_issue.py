"""Issuing one document: what every kind of document (period invoices and acts, calls reports,
aggregated invoices, pro-formas, invoices for a payment) does the same way. A number from the
carrier's sequence for the document's subject (the same subject always gets the same number),
the data built by the domain, stored under a deterministic id in the account's monthly
database, and a job queued for the document workers to render and email it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.charges import month_prefix
from bookkeeper.domain.documents.carriers import Carrier, parse_carriers
from bookkeeper.domain.documents.document_data import document_data, document_id
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.legal_details import FIELDS as LEGAL_FIELDS
from bookkeeper.domain.documents.numbering import numbered_type, sequence_key, shown_number
from bookkeeper.domain.documents.vat import BRUTTO, VatPolicy
from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import Clock, DocumentStore, NotFound, gregorian_now
from bookkeeper.services.billing.context import BillingContext, get_or_none, load_context
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.document_numbers import NumberSequence, reserve
from bookkeeper.services.documents.document_queue import enqueue_render


@dataclass(frozen=True)
class DocumentPorts:
    store: DocumentStore
    clock: Clock
    design_docs: Sequence[DesignDoc]


@dataclass(frozen=True)
class IssuedDocument:
    db: str
    doc_id: str
    document_type: str
    carrier: str
    number: str
    email: bool = True  # emailed once rendered (a document issued again is, only when asked)
    frozen: bool = False  # corrected by a credit note: left as it was issued, neither rewritten nor sent


class DocumentRequestError(FieldError):
    """A document that cannot be issued as asked."""


class NoCarrier(DocumentRequestError):
    """The reseller has no carrier: no document can be issued yet (the API's 409)."""


@dataclass(frozen=True)
class Issuer:
    """What every document of one account shares: its billing context, the customer as documents
    name it (the account's name, and the `legal` texts of its onbill), the reseller's VAT, now."""

    ports: DocumentPorts
    context: BillingContext
    customer: Mapping[str, Any]
    vat: VatPolicy
    now: int

    @classmethod
    def of(cls, ports: DocumentPorts, account_id: str) -> Issuer:
        context = load_context(ports.store, account_id)
        onbill = get_or_none(ports.store, account_db(account_id), "onbill") or {}
        customer = {
            "id": account_id,
            "name": context.account_name,
            "legal": {k: v for k, v in (onbill.get("legal") or {}).items() if k in LEGAL_FIELDS and isinstance(v, str)},
        }
        return cls(
            ports,
            context,
            customer,
            VatPolicy(context.reseller.vat_disposition, context.reseller.vat_rate),
            gregorian_now(ports.clock),
        )

    def carriers(self) -> tuple[Carrier, ...]:
        """The reseller's carriers. NoCarrier before it has set any: a document names the legal
        entity that issues it (address, tax ids, bank), and one issued without them is not a
        document a customer can pay or file, while its number would be spent for good."""
        carriers = parse_carriers(self.context.reseller.carriers)
        if not carriers:
            reseller = (
                get_or_none(self.ports.store, account_db(self.context.reseller_id), self.context.reseller_id) or {}
            )
            raise NoCarrier(
                "carriers",
                f"{reseller.get('name') or self.context.reseller_id} has no carrier yet: "
                "add the legal entity that issues its documents to the `carriers` of its onbill",
            )
        return carriers

    def main_carrier(self) -> Carrier:
        return next(carrier for carrier in self.carriers() if carrier.main)

    def issue(
        self,
        carrier: Carrier,
        kind: str,
        *,
        subject: str,
        issued_on: date,
        period: tuple[date, date],
        lines: Sequence[InvoiceLine],
        id_suffix: str,
        extra: Mapping[str, Any] | None = None,
        email: bool | None = None,
        money_paid: bool = False,
    ) -> IssuedDocument:
        """Number, store and queue the document. `email`: whether to email it once rendered;
        None: unless it was emailed before (issued again, its admins already have it; issued
        again after a crawl died before sending it, they do not, and it is sent). `money_paid`:
        its lines are money paid into the balance (a pro-forma's, a payment's), which holds its
        VAT whatever the reseller's prices do: a pro-forma for 5,000.00 asks for 5,000.00."""
        context = self.context
        number, shown = self.number(carrier, kind, subject, issued_on)
        data = document_data(
            document_type=kind,
            carrier=carrier,
            customer=self.customer,
            period_start=period[0],
            period_end=period[1],
            issued=issued_on,
            number=shown,
            sequence_number=number,
            currency=context.reseller.currency,
            language=context.account.language[:2],
            vat=VatPolicy(BRUTTO, self.vat.rate) if money_paid and self.vat.charged else self.vat,
            lines=lines,
            category_codes=context.reseller.category_codes,
        )
        return self.store_document(kind, carrier.id, issued_on, id_suffix, {**data, **(extra or {})}, email)

    def number(self, carrier: Carrier, kind: str, subject: str, issued_on: date) -> tuple[int, str]:
        """The number of `subject`'s document of `kind` (the one it had, if it had one) and how it
        is shown."""
        numbered = numbered_type(carrier, kind)
        sequence = NumberSequence(
            sequence_key(self.context.reseller_id, carrier, numbered, issued_on),
            carrier.numbering_of(numbered).start,
        )
        number = reserve(self.ports.store, sequence, [subject], now_gregorian=self.now)[subject]
        return number, shown_number(carrier, numbered, number, issued_on)

    def store_document(
        self, kind: str, carrier_id: str, issued_on: date, id_suffix: str, data: Mapping[str, Any], email: bool | None
    ) -> IssuedDocument:
        """Store the document's data in the month it is issued in and queue it to be rendered."""
        store, context = self.ports.store, self.context
        db = LedgerBook(store, self.ports.design_docs).month_db(
            context.account_id, (issued_on.year, issued_on.month), create=True
        )
        doc_id = document_id(month_prefix(issued_on), kind, carrier_id, id_suffix)
        try:
            current: dict[str, Any] | None = store.get(db, doc_id)
        except NotFound:
            current = None
        if current is not None and (current.get("voided") or current.get("credit_notes")):
            # Corrected by a credit note: the document is what the note refers to, line by line,
            # and stays as it was issued (a voided period is issued again under new numbers).
            return IssuedDocument(db, doc_id, kind, carrier_id, str(current["number"]), False, frozen=True)
        emailed_before = _store(
            store, db, doc_id, {**data, "reseller_id": context.reseller_id}, context.account_id, self.now, current
        )
        send = (not emailed_before) if email is None else email
        enqueue_render(store, db, doc_id, context.account_id, self.now, send=send)
        return IssuedDocument(db, doc_id, kind, carrier_id, str(data["number"]), send)


def _store(
    store: DocumentStore,
    db: str,
    doc_id: str,
    data: dict[str, Any],
    account_id: str,
    now: int,
    current: dict[str, Any] | None,
) -> bool:
    """Write the document's data; a regeneration replaces the data and drops the old PDF (it is
    rendered again), keeping the state history. Whether it had been emailed before."""
    history = list((current or {}).get("state_history") or [])
    # Sticky: the history keeps its last 20 steps, and a regenerated document drops its recipients.
    emailed_before = bool((current or {}).get("emailed_before")) or any(
        step.get("state") == "emailed" for step in history
    )
    history.append({"state": "queued", "at": now})
    doc = {
        "_id": doc_id,
        "pvt_type": "kazbill_document",
        **data,
        "state": "queued",
        "state_history": history[-20:],
        "pvt_account_id": account_id,
        "pvt_account_db": db,
        "pvt_created": (current or {}).get("pvt_created", now),
        "pvt_modified": now,
        **({"emailed_before": True} if emailed_before else {}),
    }
    if current is not None:
        doc["_rev"] = current["_rev"]
    store.put(db, doc)
    return emailed_before
