"""How the embedded store writes a batch of documents inside its open transaction: the batch's
current revisions and attachment names read in one query each, its sequence numbers taken in
one step, its rows inserted in one statement. Written one by one, each document cost three
lookups and a sequence step of its own: a period opening's fifteen documents were sixty
statements, a quarter of the opening's SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bookkeeper.adapters import document_rules as rules
from bookkeeper.adapters.embedded.locking import compact_json, next_rev
from bookkeeper.ports import BulkResult

CHUNK = 500  # ids per IN (...): well below SQLite's limit on bound parameters

# (db, doc_id, attachments named by the new revision, its generation, names stored before it)
StoreAttachments = Callable[[str, str, dict[str, Any], int, set[str]], None]


@dataclass(frozen=True)
class _Write:
    doc_id: str
    rev: str
    deleted: bool
    text: str
    attachments: dict[str, Any]
    existing: set[str]  # the document's attachment names before this revision


def _rows_for_ids(sql: sqlite3.Connection, select: str, db: str, ids: list[str]) -> list[tuple[Any, ...]]:
    """The rows of `select` (its `{marks}` the ids' placeholders) for `ids`, a chunk at a time."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows += sql.execute(select.format(marks=",".join("?" * len(chunk))), (db, *chunk)).fetchall()
    return rows


def _current(sql: sqlite3.Connection, db: str, ids: list[str]) -> dict[str, tuple[str, bool]]:
    select = "SELECT id, rev, deleted FROM docs WHERE db = ? AND id IN ({marks})"
    return {doc_id: (rev, bool(deleted)) for doc_id, rev, deleted in _rows_for_ids(sql, select, db, ids)}


def _attachment_names(sql: sqlite3.Connection, db: str, ids: list[str]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    select = "SELECT doc_id, name FROM attachments WHERE db = ? AND doc_id IN ({marks})"
    for doc_id, name in _rows_for_ids(sql, select, db, ids):
        names.setdefault(doc_id, set()).add(name)
    return names


def _conflicts(current: tuple[str, bool] | None, given_rev: Any) -> bool:
    if current is None:
        return given_rev is not None
    if current[1]:  # a tombstone may be recreated without a revision, like CouchDB
        return given_rev is not None and given_rev != current[0]
    return given_rev != current[0]


def write_documents(
    sql: sqlite3.Connection, db: str, docs: Sequence[dict[str, Any]], store_attachments: StoreAttachments
) -> list[BulkResult]:
    """Writes checked documents to `db` in order, as CouchDB's _bulk_docs does: each one either
    written or refused as a conflict, a later one with the same id seeing the earlier one's write."""
    ids = list(dict.fromkeys(doc["_id"] for doc in docs))
    current = _current(sql, db, ids)
    stored_names = _attachment_names(sql, db, [doc_id for doc_id in ids if doc_id in current])
    results: list[BulkResult] = []
    writes: list[_Write] = []
    for doc in docs:
        doc_id = doc["_id"]
        before = current.get(doc_id)
        if _conflicts(before, doc.get("_rev")):
            results.append(BulkResult(doc_id, error="conflict", reason="Document update conflict."))
            continue
        deleted = bool(doc.get("_deleted", False))
        named = doc.get("_attachments") if not deleted else None  # as given: it is part of the digest
        attachments = named or {}
        text = compact_json({k: v for k, v in doc.items() if k not in rules.SPECIAL_MEMBERS})
        rev = next_rev(before[0] if before else None, text, named, deleted)
        writes.append(_Write(doc_id, rev, deleted, text, attachments, stored_names.get(doc_id, set())))
        current[doc_id] = (rev, deleted)
        stored_names[doc_id] = set(attachments)
        results.append(BulkResult(doc_id, rev=rev))
    if not writes:
        return results
    last = sql.execute("UPDATE sequence SET value = value + ? RETURNING value", (len(writes),)).fetchone()[0]
    rows = []
    for seq, write in enumerate(writes, start=last - len(writes) + 1):
        if write.attachments or write.existing:
            store_attachments(db, write.doc_id, write.attachments, int(write.rev.split("-", 1)[0]), write.existing)
        rows.append((db, write.doc_id, write.rev, int(write.deleted), write.text, seq))
    sql.executemany(
        "INSERT INTO docs (db, id, rev, deleted, body, seq) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (db, id) DO UPDATE SET rev = excluded.rev, deleted = excluded.deleted, "
        "body = excluded.body, seq = excluded.seq",
        rows,
    )
    return results
