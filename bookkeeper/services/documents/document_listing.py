"""An account's issued documents as its people look for them: listed over the last months (or
for one period), and one document's PDF once it is rendered. The API and the payments page both
read them through here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.periods import Month, previous_month
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.document_mail import pdf_name

DOC_ID = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})-kazbill-doc-[a-z_]+-[A-Za-z0-9_-]+-[A-Za-z0-9]+")
RENDERED = ("rendered", "emailed", "no_recipients")  # the states in which a PDF is there


class NoSuchDocument(FieldError):
    """Not a Kazbill document id, or none of that id in the account's ledger months."""


class NotADocumentId(NoSuchDocument):
    """Not even shaped like a Kazbill document's id."""


class NotRendered(FieldError):
    """The document is there, its PDF not yet (or its rendering failed: the reason says)."""


def months_back(last: Month, count: int) -> list[Month]:
    months, month = [], last
    for _ in range(count):
        months.append(month)
        month = previous_month(month)
    return months


def list_documents(
    store: DocumentStore,
    design_docs: Sequence[DesignDoc],
    account_id: str,
    months: Sequence[Month],
    period_start: date | None = None,
) -> list[dict[str, Any]]:
    """Newest period first: id, period_start, document_type, carrier, number, state, issued,
    total (in the currency's minor units, as the document computed it) and currency."""
    query = ViewQuery(reduce=False)
    if period_start is not None:
        start = period_start.isoformat()
        query = ViewQuery(start_key=[start], end_key=[start, {}])
    book, found = LedgerBook(store, design_docs), []
    for month in months:
        db = book.month_db(account_id, month, create=False)
        if db is None:
            continue
        for row in store.query_view(db, "kazbill_documents", "by_period", query).rows:
            found.append(
                {
                    "id": row.id,
                    "period_start": row.key[0],
                    "document_type": row.key[1],
                    "carrier": row.key[2],
                    **row.value,
                }
            )
    found.sort(key=lambda doc: (doc["period_start"], doc["id"]), reverse=True)
    return found


def find_document(store: DocumentStore, account_id: str, doc_id: str) -> tuple[str, dict[str, Any]]:
    """The database and the document; NoSuchDocument when the id names none of this account's."""
    match = DOC_ID.fullmatch(doc_id)
    if match is None:
        raise NotADocumentId("doc_id", "not a Kazbill document id")
    db = account_modb(account_id, int(match["year"]), int(match["month"]))
    try:
        return db, store.get(db, doc_id)
    except (NotFound, DatabaseNotFound):
        raise NoSuchDocument("doc_id", f"no document {doc_id}") from None


def document_pdf(store: DocumentStore, account_id: str, doc_id: str) -> tuple[str, bytes]:
    """The PDF's file name and bytes; NotRendered until the document worker has made it."""
    db, doc = find_document(store, account_id, doc_id)
    if doc.get("state") not in RENDERED:
        raise NotRendered(
            "doc_id", f"the document is {doc.get('state')}" + (f": {doc['failure']}" if doc.get("failure") else "")
        )
    name = pdf_name(doc)
    return name, store.get_attachment(db, doc_id, name).data
