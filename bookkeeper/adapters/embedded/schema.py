"""The SQLite layout of the embedded store (one file, WAL, shared by Kazbill's processes).

One global sequence numbers every write to every database, so each database's changes feed
and the server-wide list of changed databases come from the same monotonic counter.
"""

from __future__ import annotations

import sqlite3

from bookkeeper.adapters.embedded.checkpoints import BACKSTOP_PAGES

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sequence (only INTEGER PRIMARY KEY CHECK (only = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO sequence (only, value) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS databases (name TEXT PRIMARY KEY, created_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS db_events (seq INTEGER PRIMARY KEY, db TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    db TEXT NOT NULL, id TEXT NOT NULL, rev TEXT NOT NULL, deleted INTEGER NOT NULL,
    body TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (db, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs (db, seq);
CREATE INDEX IF NOT EXISTS docs_by_global_seq ON docs (seq);
CREATE TABLE IF NOT EXISTS attachments (
    db TEXT NOT NULL, doc_id TEXT NOT NULL, name TEXT NOT NULL, content_type TEXT NOT NULL,
    data BLOB NOT NULL, digest TEXT NOT NULL, revpos INTEGER NOT NULL,
    PRIMARY KEY (db, doc_id, name)
);
CREATE TABLE IF NOT EXISTS local_docs (
    db TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (db, id)
);
CREATE TABLE IF NOT EXISTS view_state (
    db TEXT NOT NULL, design_id TEXT NOT NULL, signature TEXT NOT NULL, indexed_seq INTEGER NOT NULL,
    PRIMARY KEY (db, design_id)
);
CREATE TABLE IF NOT EXISTS view_rows (
    db TEXT NOT NULL, design_id TEXT NOT NULL, view TEXT NOT NULL, sort BLOB NOT NULL,
    doc_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    value_int INTEGER  -- the value when it is an integer: lets SQLite add up a _sum exactly
);
-- The index order, with the integer value in the index itself: a _sum over a range (a month's
-- balance) is read from the index alone, not from a table row per index entry (30,000 entries:
-- 50 ms -> 4 ms here). It replaces view_rows_sorted, the same without the value.
DROP INDEX IF EXISTS view_rows_sorted;
CREATE INDEX IF NOT EXISTS view_rows_in_order ON view_rows (db, design_id, view, sort, value_int);
CREATE INDEX IF NOT EXISTS view_rows_by_doc ON view_rows (db, design_id, doc_id);
"""


def connect(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
    connection.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash; only a power loss may lose the last commits.
    connection.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints run in a thread of their own (checkpoints.py); this is only SQLite's backstop.
    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            connection.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(f"{path} was written by a newer Kazbill (schema {row[0]} > {SCHEMA_VERSION})")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        connection.close()
        raise
    return connection
