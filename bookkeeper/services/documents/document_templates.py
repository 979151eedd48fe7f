"""Resellers' own document templates: one per carrier and document type, stored as an attachment
of `kazbill_template-<carrier>-<type>` in the reseller's account database. The text is checked by
documents.custom_templates before it is saved (the API does that); without one, the default
template is used."""

from __future__ import annotations

import hashlib
from typing import Any

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound

ATTACHMENT = "template.html"


def template_doc_id(carrier_id: str, document_type: str) -> str:
    return f"kazbill_template-{carrier_id}-{document_type}"


def save_template(
    store: DocumentStore, reseller_id: str, carrier_id: str, document_type: str, source: str, now_gregorian: int
) -> dict[str, Any]:
    db, doc_id = account_db(reseller_id), template_doc_id(carrier_id, document_type)
    data = source.encode("utf-8")
    try:
        current = store.get(db, doc_id)
    except NotFound:
        current = None
    doc = {
        "_id": doc_id,
        "pvt_type": "kazbill_template",
        "carrier": carrier_id,
        "document_type": document_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "pvt_modified": now_gregorian,
        "pvt_created": (current or {}).get("pvt_created", now_gregorian),
    }
    if current is not None:
        doc["_rev"] = current["_rev"]
    written = store.put(db, doc)
    store.put_attachment(db, doc_id, ATTACHMENT, data, "text/html", written.rev)
    return doc


def template_for(store: DocumentStore, reseller_id: str | None, carrier_id: str, document_type: str) -> str | None:
    if not reseller_id:
        return None
    try:
        return store.get_attachment(
            account_db(reseller_id), template_doc_id(carrier_id, document_type), ATTACHMENT
        ).data.decode("utf-8")
    except (NotFound, DatabaseNotFound):
        return None


def remove_template(store: DocumentStore, reseller_id: str, carrier_id: str, document_type: str) -> bool:
    db, doc_id = account_db(reseller_id), template_doc_id(carrier_id, document_type)
    try:
        current = store.get(db, doc_id)
    except NotFound:
        return False
    store.delete(db, doc_id, current["_rev"])
    return True
