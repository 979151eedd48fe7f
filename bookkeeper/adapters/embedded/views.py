"""Views on the embedded store: incremental indexes of the design documents' map functions,
queried with CouchDB's parameters and reduced with its built-in reducers.

Like CouchDB, an index is brought up to date when it is queried: the documents changed since
the index's sequence are mapped again. The index belongs to the design document's content
(its signature), so an upgraded design document is re-indexed from scratch.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from bookkeeper.adapters.embedded import collation, sql_reduce
from bookkeeper.adapters.embedded.js_views import MAP_BATCH, DesignDocViews, MappedDocument, document_text
from bookkeeper.adapters.embedded.locking import loads_all
from bookkeeper.adapters.embedded.reducers import reducer_for
from bookkeeper.adapters.embedded.view_ranges import bounds_of, page_of, where_in
from bookkeeper.ports import InvalidQuery, NotFound, ViewQuery, ViewResult, ViewRow

FetchDocs = Callable[[str, list[str]], dict[str, dict[str, Any]]]
# (db, design id, view, doc id, rev, what the map threw): the store records it for the operator.
MapErrorSink = Callable[[str, str, str, str, str, str], None]


def _signature(views: Any) -> str:
    return hashlib.sha256(json.dumps(views, sort_keys=True).encode()).hexdigest()


def _reducing(where: str, has_reduce: bool, query: ViewQuery) -> bool:
    """Whether the query reduces; raises InvalidQuery for parameters CouchDB refuses together."""
    reducing = has_reduce and query.reduce is not False
    if query.reduce and not has_reduce:
        raise InvalidQuery(f"{where}: reduce=true is invalid for a map-only view")
    if reducing and query.include_docs:
        raise InvalidQuery(f"{where}: include_docs is invalid for a reduce query")
    if not reducing and (query.group or query.group_level is not None):
        raise InvalidQuery(f"{where}: group and group_level need a reduce")
    if reducing and query.keys is not None and not (query.group or query.group_level is not None):
        raise InvalidQuery(f"{where}: several keys on a reduce view need group=true")
    return reducing


def _identical(left: Any, right: Any) -> bool:
    """Equal and of the same types, so certainly equal in collation: most rows of a group compare
    so, without encoding their keys. Floats and objects are left to the encoding (-0.0 == 0.0)."""
    kind = type(left)
    if kind is not type(right) or kind is float or kind is dict:
        return False
    if kind is list:
        return len(left) == len(right) and all(_identical(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


class ViewEngine:
    def __init__(self, connection: sqlite3.Connection, on_map_error: MapErrorSink | None = None):
        self._db = connection
        self._on_map_error = on_map_error
        self._compiled: dict[str, DesignDocViews] = {}
        self._parsed: dict[tuple[str, str], tuple[Any, str, str]] = {}

    # ------------------------------------------------------------------ indexing

    def _parsed_design(self, db: str, design_id: str) -> tuple[Any, str, str] | None:
        """(views, signature, language) of the design document, None when there is none."""
        row = self._db.execute(
            "SELECT rev FROM docs WHERE db = ? AND id = ? AND deleted = 0", (db, design_id)
        ).fetchone()
        if row is None:
            return None
        # The same design document sits in thousands of account databases: read and parse it once
        # per revision (its text, the map functions, is a few kilobytes read for nothing otherwise).
        parsed = self._parsed.get((design_id, row[0]))
        if parsed is None:
            # Read again with its text in one statement: outside a transaction another process
            # may have replaced or deleted it since the statement above.
            row = self._db.execute(
                "SELECT rev, body FROM docs WHERE db = ? AND id = ? AND deleted = 0", (db, design_id)
            ).fetchone()
            if row is None:
                return None
            body = json.loads(row[1])
            views = body.get("views")
            language = body.get("language", "javascript")
            parsed = (views, _signature(views) if isinstance(views, dict) else "", language)
            self._parsed[(design_id, row[0])] = parsed
        return parsed

    def _design(self, db: str, design: str, view: str) -> tuple[str, dict[str, Any], str]:
        design_id = f"_design/{design.removeprefix('_design/')}"
        parsed = self._parsed_design(db, design_id)
        if parsed is None:
            raise NotFound(db, f"{design_id}/_view/{view}", "view")
        views, signature, language = parsed
        if not isinstance(views, dict) or view not in views:
            raise NotFound(db, f"{design_id}/_view/{view}", "view")
        if language != "javascript":
            raise InvalidQuery(f"{design_id}: only javascript design documents are supported")
        return design_id, views, signature

    def _engine(self, design_id: str, views: dict[str, Any], signature: str) -> DesignDocViews:
        engine = self._compiled.get(signature)
        if engine is None:
            engine = self._compiled[signature] = DesignDocViews(design_id, views)
        return engine

    def is_fresh(self, db: str, design: str, view: str) -> bool:
        """Whether the index already covers every write to `db` (then a query needs no write
        transaction: most queries of a billing pass find nothing new to map)."""
        try:
            design_id, _, signature = self._design(db, design, view)
        except (NotFound, InvalidQuery):
            return False
        state = self._db.execute(
            "SELECT signature, indexed_seq FROM view_state WHERE db = ? AND design_id = ?", (db, design_id)
        ).fetchone()
        last = self._db.execute("SELECT MAX(seq) FROM docs WHERE db = ?", (db,)).fetchone()[0] or 0
        return state is not None and state[0] == signature and state[1] >= last

    def last_seq(self, db: str) -> int:
        return self._db.execute("SELECT MAX(seq) FROM docs WHERE db = ?", (db,)).fetchone()[0] or 0

    def index_written(self, db: str, before: int) -> None:
        """Maps what the open write transaction wrote to `db` into each index that was up to date
        before it (`before`: the database's last sequence then), in that same transaction. Left
        to the next query, each refresh was a write transaction of its own, reading back what
        had just been written: most of a month's indexes are queried after every write (a call
        batch's earlier debits, a pass's balance). An index not up to date stays to its query."""
        for design_id, signature in self._db.execute(
            "SELECT design_id, signature FROM view_state WHERE db = ? AND indexed_seq >= ?", (db, before)
        ).fetchall():
            parsed = self._parsed_design(db, design_id)
            if parsed is not None and parsed[1] == signature and parsed[2] == "javascript":
                self._refresh(db, design_id, parsed[0], signature)

    def _refresh(self, db: str, design_id: str, views: dict[str, Any], signature: str) -> None:
        state = self._db.execute(
            "SELECT signature, indexed_seq FROM view_state WHERE db = ? AND design_id = ?", (db, design_id)
        ).fetchone()
        since = state[1] if state and state[0] == signature else 0
        if since == 0:
            self._db.execute("DELETE FROM view_rows WHERE db = ? AND design_id = ?", (db, design_id))
        changed = self._db.execute(
            "SELECT id, rev, deleted, body, seq FROM docs WHERE db = ? AND seq > ? ORDER BY seq", (db, since)
        ).fetchall()
        if not changed and state and state[0] == signature:
            return
        engine = self._engine(design_id, views, signature)
        rows: list[tuple[Any, ...]] = []
        self._db.executemany(  # a first revision has no rows to replace: no revision came before it
            "DELETE FROM view_rows WHERE db = ? AND design_id = ? AND doc_id = ?",
            [(db, design_id, doc_id) for doc_id, rev, *_ in changed if not rev.startswith("1-")],
        )
        to_map = [
            (doc_id, rev, document_text(doc_id, rev, body))
            for doc_id, rev, deleted, body, _ in changed
            if not deleted and not doc_id.startswith("_design/")  # CouchDB leaves design documents out of views
        ]
        since = max([since, *(seq for *_, seq in changed)])
        for start in range(0, len(to_map), MAP_BATCH):
            batch = to_map[start : start + MAP_BATCH]
            mapped = engine.map_documents([(doc_id, text) for doc_id, _, text in batch])
            for (doc_id, rev, _), one in zip(batch, mapped, strict=True):
                self._index_rows((db, design_id, doc_id, rev), one, rows)
        self._db.executemany("INSERT INTO view_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self._db.execute("INSERT OR REPLACE INTO view_state VALUES (?, ?, ?, ?)", (db, design_id, signature, since))

    def _index_rows(
        self, where: tuple[str, str, str, str], mapped: MappedDocument, rows: list[tuple[Any, ...]]
    ) -> None:
        """The index rows of one mapped document (db, design id, doc id, rev), added to `rows`;
        what its maps threw is handed to the store, to be recorded for the operator."""
        db, design_id, doc_id, rev = where
        for view, message in mapped.errors.items():
            if self._on_map_error is not None:
                self._on_map_error(db, design_id, view, doc_id, rev, message)
        encoded_id = collation.encode(doc_id)
        for view, emitted in mapped.rows.items():
            for key, value, key_text, value_text in emitted:
                whole = value if type(value) is int and -(2**63) <= value < 2**63 else None
                rows.append(
                    (db, design_id, view, collation.encode(key) + encoded_id, doc_id, key_text, value_text, whole)
                )

    # ------------------------------------------------------------------ querying

    def _select(
        self, db: str, design_id: str, view: str, query: ViewQuery, bounds, window: tuple[int, int] = (-1, 0)
    ) -> list[tuple[str, Any, Any]]:
        where, params = where_in("sort", bounds)
        order = "DESC" if query.descending else "ASC"
        rows = self._db.execute(
            f"SELECT doc_id, key, value FROM view_rows WHERE db = ? AND design_id = ? AND view = ?{where} "
            f"ORDER BY sort {order}, rowid {order} LIMIT ? OFFSET ?",
            (db, design_id, view, *params, *window),
        )
        fetched = rows.fetchall()
        decoded = loads_all([f"[{key},{value}]" for _, key, value in fetched])
        return [(doc_id, key, value) for (doc_id, _, _), (key, value) in zip(fetched, decoded, strict=True)]

    def query(
        self, db: str, design: str, view: str, query: ViewQuery, fetch: FetchDocs, *, fresh: bool = False
    ) -> ViewResult:
        """`fresh`: the caller found the index up to date under the same lock (is_fresh)."""
        design_id, views, signature = self._design(db, design, view)
        where = f"{db}/{design_id}/_view/{view}"
        reducer = reducer_for(views[view].get("reduce"), where)
        reducing = _reducing(where, reducer is not None, query)
        if not fresh:
            self._refresh(db, design_id, views, signature)

        if reducing and query.keys is None:
            in_sql = self._reduce_in_sql(db, design_id, view, query, views[view]["reduce"].strip())
            if in_sql is not None:
                return ViewResult(page_of(in_sql, query))
        if query.keys is not None:
            selected = []
            for key in query.keys:
                selected += self._select(
                    db,
                    design_id,
                    view,
                    query,
                    bounds_of(
                        ViewQuery(key=key, key_is_set=True, descending=query.descending),
                        collation.encode,
                        collation.encode,
                    ),
                )
        elif reducing:
            selected = self._select(db, design_id, view, query, bounds_of(query, collation.encode, collation.encode))
        else:  # a page of a map query: let SQLite skip and stop
            window = (-1 if query.limit is None else query.limit, query.skip)
            selected = self._select(
                db, design_id, view, query, bounds_of(query, collation.encode, collation.encode), window
            )
            query = ViewQuery(include_docs=query.include_docs, count_rows=query.count_rows)  # paged already

        if reducing:
            return ViewResult(page_of(self._reduce(selected, reducer, query, where), query))
        total = self._count(db, design_id, view) if query.count_rows else None
        rows = [ViewRow(key=key, value=value, id=doc_id) for doc_id, key, value in page_of(selected, query)]
        if query.include_docs:
            rows = self._with_docs(db, rows, fetch)
        return ViewResult(rows, total_rows=total)

    def _count(self, db: str, design_id: str, view: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM view_rows WHERE db = ? AND design_id = ? AND view = ?", (db, design_id, view)
        ).fetchone()[0]

    def _reduce_in_sql(self, db: str, design_id: str, view: str, query: ViewQuery, reduce: str) -> list[ViewRow] | None:
        where, params = where_in("sort", bounds_of(query, collation.encode, collation.encode))
        if not (query.group or query.group_level is not None):
            return sql_reduce.total(self._db, (db, design_id, view), where, params, reduce)
        if reduce == "_sum" and not query.group and query.group_level is not None and not query.descending:
            return sql_reduce.grouped_sum(self._db, (db, design_id, view), where, params, query.group_level)
        return None

    @staticmethod
    def _reduce(selected, reducer, query: ViewQuery, where: str) -> list[ViewRow]:
        grouping = query.group or query.group_level is not None
        if not grouping:
            return [ViewRow(key=None, value=reducer([value for _, _, value in selected], where))] if selected else []
        groups: list[tuple[Any, list[Any]]] = []
        previous: bytes | None = None  # the last group's key encoded, once a row's key differed from it
        for _, key, value in selected:
            if query.group_level is not None and not query.group and isinstance(key, list):
                key = key[: query.group_level]
            if groups and _identical(key, groups[-1][0]):
                groups[-1][1].append(value)
                continue
            if groups and previous is None:
                previous = collation.encode(groups[-1][0])
            encoded = collation.encode(key)
            if groups and encoded == previous:  # equal in collation, not in Python (1 and 1.0)
                groups[-1][1].append(value)
            else:
                groups.append((key, [value]))
                previous = encoded
        return [ViewRow(key=key, value=reducer(values, where)) for key, values in groups]

    @staticmethod
    def _with_docs(db: str, rows: list[ViewRow], fetch: FetchDocs) -> list[ViewRow]:
        # emit(key, {_id: other}) links another document, as CouchDB allows.
        def target(row: ViewRow) -> str:
            if isinstance(row.value, dict) and isinstance(row.value.get("_id"), str):
                return row.value["_id"]
            assert row.id is not None  # only map rows take documents, and those name theirs
            return row.id

        docs = fetch(db, [target(row) for row in rows])
        return [ViewRow(row.key, row.value, row.id, docs.get(target(row))) for row in rows]
