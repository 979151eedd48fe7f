"""The embedded document store: CouchDB's document semantics on one SQLite file.

What it keeps of CouchDB: `_id`/`_rev` with 409 conflicts, tombstones, attachments with
md5 digests and revpos, `_local` documents, a per-database changes feed and a server-wide list
of changed databases, and the views of couch_views/ (see `views.py`). What it leaves out:
multi-master replication, so a document has one linear history and never a conflict branch.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bookkeeper.adapters import document_rules as rules
from bookkeeper.adapters.embedded import schema
from bookkeeper.adapters.embedded.all_docs import all_docs
from bookkeeper.adapters.embedded.attachments import AttachmentsMixin
from bookkeeper.adapters.embedded.checkpoints import CHECKPOINTS
from bookkeeper.adapters.embedded.doc_writes import write_documents
from bookkeeper.adapters.embedded.feeds import FeedsMixin
from bookkeeper.adapters.embedded.local_docs import LocalDocsMixin
from bookkeeper.adapters.embedded.locking import GuardedLock, loads_all
from bookkeeper.adapters.embedded.map_errors import FAILURES_DB, map_error_failure
from bookkeeper.adapters.embedded.views import ViewEngine
from bookkeeper.domain.cluster_writes import Leaf
from bookkeeper.ports import (
    BulkResult,
    Conflict,
    DatabaseExists,
    DatabaseInfo,
    DatabaseNotFound,
    NotFound,
    PutResult,
    ServerInfo,
    ViewQuery,
    ViewResult,
)


class EmbeddedStore(FeedsMixin, AttachmentsMixin, LocalDocsMixin):
    def __init__(self, path: str | Path, busy_timeout_s: float = 30.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = schema.connect(self.path, busy_timeout_s)
        # Checkpoints go by the file's absolute path: the process may change its directory.
        self._file = str(Path(self.path).resolve()) if self.path != ":memory:" else ""
        self._lock = GuardedLock(self.path)
        self._views = ViewEngine(self._db, self._record_map_error)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        if self._file:
            CHECKPOINTS.written(self._file)

    def _next_seq(self) -> int:
        return self._db.execute("UPDATE sequence SET value = value + 1 RETURNING value").fetchone()[0]

    def _require_db(self, db: str) -> str:
        name = rules.checked_database_name(db)
        if not self._db.execute("SELECT 1 FROM databases WHERE name = ?", (name,)).fetchone():
            raise DatabaseNotFound(name)
        return name

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._file:
            CHECKPOINTS.forget(self._file)

    def server_info(self) -> ServerInfo:
        with self._lock:
            version = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        return ServerInfo(
            adapter="embedded",
            vendor="kazbill-embedded (SQLite)",
            version=f"schema {version}, SQLite {sqlite3.sqlite_version}",
            location=self.path,
            features=("views", "changes", "db_updates"),
        )

    # ------------------------------------------------------------------ databases

    def create_database(self, db: str) -> None:
        name = rules.checked_database_name(db)
        with self._write() as sql:
            if sql.execute("SELECT 1 FROM databases WHERE name = ?", (name,)).fetchone():
                raise DatabaseExists(name)
            seq = self._next_seq()
            sql.execute("INSERT INTO databases (name, created_seq) VALUES (?, ?)", (name, seq))
            sql.execute("INSERT INTO db_events (seq, db, kind) VALUES (?, ?, 'created')", (seq, name))

    def ensure_database(self, db: str) -> bool:
        try:
            self.create_database(db)
        except DatabaseExists:
            return False
        return True

    def delete_database(self, db: str) -> None:
        with self._write() as sql:
            name = self._require_db(db)
            for table in ("docs", "attachments", "local_docs", "view_state", "view_rows"):
                sql.execute(f"DELETE FROM {table} WHERE db = ?", (name,))
            sql.execute("DELETE FROM databases WHERE name = ?", (name,))
            sql.execute("INSERT INTO db_events (seq, db, kind) VALUES (?, ?, 'deleted')", (self._next_seq(), name))

    def database_exists(self, db: str) -> bool:
        name = rules.checked_database_name(db)
        with self._lock:
            return self._db.execute("SELECT 1 FROM databases WHERE name = ?", (name,)).fetchone() is not None

    def list_databases(self, prefix: str = "") -> list[str]:
        # Names compare as UTF-8 bytes: every name starting with the prefix sorts below prefix + U+10FFFF.
        with self._lock:
            return [
                row[0]
                for row in self._db.execute(
                    "SELECT name FROM databases WHERE name >= ? AND name < ? ORDER BY name",
                    (prefix, prefix + "\U0010ffff"),
                )
            ]

    def database_info(self, db: str) -> DatabaseInfo:
        with self._lock:
            name = self._require_db(db)
            count, last = self._db.execute(
                "SELECT COUNT(*) FILTER (WHERE deleted = 0), MAX(seq) FROM docs WHERE db = ?", (name,)
            ).fetchone()
            created = self._db.execute("SELECT created_seq FROM databases WHERE name = ?", (name,)).fetchone()[0]
        return DatabaseInfo(name=name, doc_count=count, update_seq=str(last or created))

    # ------------------------------------------------------------------ documents

    def _stubs(self, db: str, doc_id: str) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT name, content_type, digest, length(data), revpos FROM attachments "
            "WHERE db = ? AND doc_id = ? ORDER BY name",
            (db, doc_id),
        )
        return {
            name: {"content_type": ctype, "digest": digest, "length": length, "revpos": revpos, "stub": True}
            for name, ctype, digest, length, revpos in rows
        }

    def _compose(self, db: str, doc_id: str, rev: str, body: str) -> dict[str, Any]:
        return self._composed(db, doc_id, rev, json.loads(body), True)

    def _composed(self, db: str, doc_id: str, rev: str, body: dict[str, Any], with_stubs: bool) -> dict[str, Any]:
        doc = {"_id": doc_id, "_rev": rev, **body}
        stubs = self._stubs(db, doc_id) if with_stubs else None
        if stubs:
            doc["_attachments"] = stubs
        return doc

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        with self._lock:
            name = self._require_db(db)
            row = self._db.execute(
                "SELECT rev, deleted, body FROM docs WHERE db = ? AND id = ?", (name, doc_id)
            ).fetchone()
            if row is None or row[1]:
                raise NotFound(name, doc_id)
            return self._compose(name, doc_id, row[0], row[2])

    def get_from_every_copy(self, db: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self.get(db, doc_id)  # one copy
        except NotFound:
            return None

    def get_many(self, db: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(doc_ids))
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            name = self._require_db(db)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                with_attachments = {
                    doc_id
                    for (doc_id,) in self._db.execute(
                        f"SELECT DISTINCT doc_id FROM attachments WHERE db = ? AND doc_id IN ({marks})",
                        (name, *chunk),
                    )
                }  # one query for the chunk, not one per document: few documents have any
                rows = self._db.execute(
                    f"SELECT id, rev, body FROM docs WHERE db = ? AND deleted = 0 AND id IN ({marks})",
                    (name, *chunk),
                ).fetchall()
                for (doc_id, rev, _), body in zip(rows, loads_all([body for _, _, body in rows]), strict=True):
                    found[doc_id] = self._composed(name, doc_id, rev, body, doc_id in with_attachments)
        return {doc_id: found[doc_id] for doc_id in wanted if doc_id in found}

    def _apply(self, db: str, doc: dict[str, Any]) -> PutResult:
        """One document write inside an open transaction; raises Conflict."""
        (result,) = write_documents(self._db, db, [doc], self._store_attachments)
        if result.error:
            raise Conflict(db, doc["_id"])
        assert result.rev is not None
        return PutResult(result.id, result.rev)

    def put(self, db: str, doc: Mapping[str, Any]) -> PutResult:
        with self._write():
            name = self._require_db(db)
            before = self._views.last_seq(name)
            written = self._apply(name, rules.check_document(name, doc))
            self._views.index_written(name, before)
            return written

    def bulk_put(self, db: str, docs: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        name = rules.checked_database_name(db)
        checked = [rules.check_document(name, doc) for doc in docs]
        with self._write():
            self._require_db(name)
            before = self._views.last_seq(name)
            results = write_documents(self._db, name, checked, self._store_attachments)
            self._views.index_written(name, before)
        return results

    def delete(self, db: str, doc_id: str, rev: str) -> PutResult:
        return self.put(db, {"_id": doc_id, "_rev": rev, "_deleted": True})

    def leaves(self, db: str, doc_id: str) -> list[Leaf]:
        """One revision line per document here: its leaf is the current revision."""
        with self._lock:
            name = self._require_db(db)
            row = self._db.execute("SELECT rev, deleted FROM docs WHERE db = ? AND id = ?", (name, doc_id)).fetchone()
        return [] if row is None else [Leaf(row[0], bool(row[1]))]

    def soft_delete(self, db: str, doc_id: str) -> PutResult:
        with self._write():
            name = self._require_db(db)
            doc = self.get(name, doc_id)
            doc["pvt_deleted"] = True
            return self._apply(name, doc)

    # ------------------------------------------------------------------ views

    def query_view(self, db: str, design: str, view: str, query: ViewQuery = ViewQuery()) -> ViewResult:
        with self._lock:
            name = self._require_db(db)
            if self._views.is_fresh(name, design, view):
                return self._views.query(name, design, view, query, self._fetch_for_include, fresh=True)
        with self._write():  # the index has documents to map first
            self._require_db(name)
            return self._views.query(name, design, view, query, self._fetch_for_include)

    def all_docs(self, db: str, query: ViewQuery = ViewQuery()) -> ViewResult:
        with self._lock:
            name = self._require_db(db)
            return all_docs(self._db, name, query, self._fetch_for_include)

    def _record_map_error(self, db: str, design_id: str, view: str, doc_id: str, rev: str, message: str) -> None:
        """Called while an index is brought up to date, inside its write."""
        if db == FAILURES_DB:
            return  # a failure about a failure record could chain; the log line has it
        if not self._db.execute("SELECT 1 FROM databases WHERE name = ?", (FAILURES_DB,)).fetchone():
            seq = self._next_seq()
            self._db.execute("INSERT INTO databases (name, created_seq) VALUES (?, ?)", (FAILURES_DB, seq))
            self._db.execute("INSERT INTO db_events (seq, db, kind) VALUES (?, ?, 'created')", (seq, FAILURES_DB))
        with contextlib.suppress(Conflict):  # the same error on the same revision, recorded before
            self._apply(FAILURES_DB, map_error_failure(db, design_id, view, doc_id, rev, message))

    def _fetch_for_include(self, db: str, doc_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.get_many(db, doc_ids)
