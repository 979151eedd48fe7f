"""`_all_docs` on the embedded store: every live document's id and revision, in the order of
the ids' raw bytes (not view collation), as CouchDB gives them."""

from __future__ import annotations

import sqlite3
from typing import Any

from bookkeeper.adapters.embedded.view_ranges import page_of, where_in
from bookkeeper.adapters.embedded.views import FetchDocs
from bookkeeper.ports import ViewQuery, ViewResult, ViewRow


def all_docs(sql: sqlite3.Connection, db: str, query: ViewQuery, fetch: FetchDocs) -> ViewResult:
    if query.keys is not None:
        found = fetch(db, list(query.keys)) if query.include_docs else None
        selected = []
        for doc_id in query.keys:
            row = sql.execute(
                "SELECT id, rev FROM docs WHERE db = ? AND id = ? AND deleted = 0", (db, doc_id)
            ).fetchone()
            if row:
                selected.append(row)
    else:
        where, params = _id_range(query)
        order = "DESC" if query.descending else "ASC"
        selected = sql.execute(
            f"SELECT id, rev FROM docs WHERE db = ? AND deleted = 0{where} ORDER BY id {order}", (db, *params)
        ).fetchall()
        found = None
    count = "SELECT COUNT(*) FROM docs WHERE db = ? AND deleted = 0"
    total = sql.execute(count, (db,)).fetchone()[0] if query.count_rows else None
    page = page_of(selected, query)
    if query.include_docs and found is None:
        found = fetch(db, [doc_id for doc_id, _ in page])
    rows = [
        ViewRow(
            key=doc_id, value={"rev": rev}, id=doc_id, doc=(found or {}).get(doc_id) if query.include_docs else None
        )
        for doc_id, rev in page
    ]
    return ViewResult(rows, total_rows=total)


def _id_range(query: ViewQuery) -> tuple[str, list[Any]]:
    if query.has_key():
        return " AND id = ?", [query.key]
    low, high = (query.end_key, query.start_key) if query.descending else (query.start_key, query.end_key)
    low_inclusive = True if not query.descending else query.inclusive_end
    high_inclusive = query.inclusive_end if not query.descending else True
    return where_in("id", (low, low_inclusive, high, high_inclusive))
