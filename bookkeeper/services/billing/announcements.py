"""Telling Kazoo that Kazbill wrote one of its documents (KAZOO_INTEROP rule 3): Kazoo's caches
(jonny5's limits, accounts, services) flush only on a `doc_edited` notice, and a direct write to
CouchDB sends none.

The handler that writes the document records an announcement in an outbox (`kazbill_outbox`)
right after the write; the AMQP bridge publishes what is pending and marks it published. The
announcement's id is made of the database, the document and its new revision, so a replayed
handler records nothing new, and a crash between publishing and marking only publishes the same
notice twice (Kazoo flushes a cache twice: harmless).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, encode_db_name
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery

OUTBOX_DB = "kazbill_outbox"


def announce_write(store: DocumentStore, db: str, doc: Mapping[str, Any], now_gregorian: int) -> None:
    doc_id, rev = doc["_id"], doc.get("_rev")
    if not rev:
        raise ValueError(f"{db}/{doc_id}: announce a write with the revision it produced")
    digest = hashlib.sha256(f"{db}\n{doc_id}\n{rev}".encode()).hexdigest()[:32]
    record = {
        "_id": f"announce-{digest}",
        "pvt_type": "announcement",
        "database": db if db == ACCOUNTS_DB else encode_db_name(db),  # as Kazoo itself names it
        "doc_id": doc_id,
        "doc_type": doc.get("pvt_type", "unknown"),
        "rev": rev,
        "account_id": doc.get("pvt_account_id") or doc_id,
        "pvt_created": now_gregorian,
    }
    try:
        store.bulk_put(OUTBOX_DB, [record])  # a conflict: announced before
    except DatabaseNotFound:
        store.ensure_database(OUTBOX_DB)
        store.bulk_put(OUTBOX_DB, [record])


def pending_announcements(store: DocumentStore, limit: int = 100) -> list[dict[str, Any]]:
    try:
        rows = store.query_view(OUTBOX_DB, "kazbill_outbox", "pending", ViewQuery(include_docs=True, limit=limit)).rows
    except DatabaseNotFound:
        return []
    return [dict(row.doc) for row in rows if row.doc]


def mark_published(store: DocumentStore, announcement: Mapping[str, Any], now_gregorian: int) -> None:
    store.put(OUTBOX_DB, {**announcement, "published_at": now_gregorian})
