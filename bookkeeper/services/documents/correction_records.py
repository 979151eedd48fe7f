"""The record of what an invoice had taken back by credit notes, and the marks a correction leaves
on the documents it corrects.

`kazbill_corrections-<document id>` in the account's database: per line of the invoice, what was
taken back (in the reseller's terms, and as net, VAT and gross), and each credit note planned or
made (`done`). Moved by revision-checked writes only, so two corrections racing cannot both take
back the same kopeck: the loser reads again and finds less left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.documents.credit_notes import Credited
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import Conflict, DocumentStore
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.documents.document_listing import NoSuchDocument, find_document

ATTEMPTS = 50


def save_note(store: DocumentStore, account_id: str, record: dict[str, Any], note: dict[str, Any]) -> bool:
    """Record the note and what it takes back; False when another correction was recorded first."""
    credited = [Credited.of(value) for value in record["credited"]]
    size = max([len(credited), *(index + 1 for index, *_ in note["taken"])])
    credited += [Credited()] * (size - len(credited))
    for index, _, priced, amounts in note["taken"]:
        before = credited[index]
        credited[index] = Credited(
            before.priced + priced, before.net + amounts[0], before.vat + amounts[1], before.gross + amounts[2]
        )
    try:
        store.put(
            account_db(account_id),
            {**record, "credited": [c.as_list() for c in credited], "notes": [*record["notes"], note]},
        )
        return True
    except Conflict:
        return False


def mark(store: DocumentStore, account_id: str, doc_id: str, marks: Mapping[str, Any]) -> None:
    """Write the correction's marks on a document (merged: a second credit note adds itself);
    the document worker may be writing its state meanwhile, so a lost race reads again."""
    for _ in range(ATTEMPTS):
        try:
            db, doc = find_document(store, account_id, doc_id)
        except NoSuchDocument:
            return  # no such sibling: nothing to mark
        merged = dict(doc)
        if "credit_notes" in marks:
            merged["credit_notes"] = {**(doc.get("credit_notes") or {}), **marks["credit_notes"]}
        if "voided" in marks:
            merged["voided"] = marks["voided"]
        if merged == doc:
            return
        try:
            store.put(db, merged)
            return
        except Conflict:
            continue


def note_done(
    store: DocumentStore, account_id: str, doc_id: str, subject: str, number: str, made: list[list[str]]
) -> None:
    for _ in range(ATTEMPTS):
        record = record_of(store, account_id, doc_id)
        notes = [
            {**note, "done": True, "number": number, "made": made} if note["subject"] == subject else note
            for note in record["notes"]
        ]
        try:
            store.put(account_db(account_id), {**record, "notes": notes})
            return
        except Conflict:
            continue


def record_of(store: DocumentStore, account_id: str, doc_id: str) -> dict[str, Any]:
    record_id = f"kazbill_corrections-{doc_id}"
    return get_or_none(store, account_db(account_id), record_id) or {
        "_id": record_id,
        "pvt_type": "kazbill_corrections",
        "original": doc_id,
        "credited": [],
        "notes": [],
    }
