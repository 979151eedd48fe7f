"""The embedded store's feeds: each database's changes after a checkpoint, and the databases
changed after a checkpoint, both numbered by the store's one global sequence. A long poll
re-reads every POLL_INTERVAL_S, so it also sees writes made by Kazbill's other processes."""

from __future__ import annotations

import time

from bookkeeper.adapters.embedded.store_parts import StoreParts
from bookkeeper.ports import Change, ChangesPage, DbUpdate, DbUpdatesPage, InvalidDocument

POLL_INTERVAL_S = 0.05


class FeedsMixin(StoreParts):
    """Mixed into EmbeddedStore, whose connection, lock and document helpers it uses."""

    def _changes_once(self, db: str, since: int, limit: int | None, include_docs: bool) -> list[Change]:
        rows = self._db.execute(
            "SELECT id, rev, deleted, body, seq FROM docs WHERE db = ? AND seq > ? ORDER BY seq LIMIT ?",
            (db, since, -1 if limit is None else limit),
        ).fetchall()
        changes = []
        for doc_id, rev, deleted, body, seq in rows:
            doc = None
            if include_docs:
                doc = (
                    {"_id": doc_id, "_rev": rev, "_deleted": True} if deleted else self._compose(db, doc_id, rev, body)
                )
            changes.append(Change(id=doc_id, seq=str(seq), rev=rev, deleted=bool(deleted), doc=doc))
        return changes

    def _parse_since(self, db: str | None, since: str) -> int:
        if since == "now":
            if db is None:
                return self._db.execute("SELECT value FROM sequence").fetchone()[0]
            last = self._db.execute("SELECT MAX(seq) FROM docs WHERE db = ?", (db,)).fetchone()[0]
            return last or 0
        try:
            return max(int(since), 0)
        except (TypeError, ValueError):
            raise InvalidDocument(db or "(server)", "since", f"not a sequence of this store: {since!r}") from None

    def changes(
        self,
        db: str,
        since: str = "0",
        *,
        limit: int | None = None,
        include_docs: bool = False,
        timeout_s: float | None = None,
    ) -> ChangesPage:
        deadline = time.monotonic() + (timeout_s or 0)
        with self._lock:
            name = self._require_db(db)
            start = self._parse_since(name, str(since))
        while True:
            with self._lock:
                changes = self._changes_once(name, start, limit, include_docs)
            if changes or time.monotonic() >= deadline:
                return ChangesPage(changes, changes[-1].seq if changes else str(start))
            time.sleep(POLL_INTERVAL_S)

    def _db_updates_once(self, since: int) -> tuple[list[DbUpdate], int]:
        # One entry per database, as CouchDB coalesces them: "created" wins over later writes
        # in the same window (a follower must learn the database is new), "deleted" if last.
        latest: dict[str, tuple[int, str]] = {}
        last = since
        for seq, db, kind in self._db.execute("SELECT seq, db, kind FROM db_events WHERE seq > ?", (since,)):
            latest[db] = (seq, kind)
            last = max(last, seq)
        for db, seq in self._db.execute("SELECT db, MAX(seq) FROM docs WHERE seq > ? GROUP BY db", (since,)):
            last = max(last, seq)
            if db not in latest or latest[db][1] == "deleted" and latest[db][0] < seq:
                latest[db] = (seq, "updated")
        ordered = sorted(latest.items(), key=lambda item: item[1][0])
        return [DbUpdate(db, kind) for db, (_, kind) in ordered], last

    def db_updates(self, since: str = "0", *, timeout_s: float | None = None) -> DbUpdatesPage:
        deadline = time.monotonic() + (timeout_s or 0)
        with self._lock:
            start = self._parse_since(None, str(since))
        while True:
            with self._lock:
                updates, last = self._db_updates_once(start)
            if updates or time.monotonic() >= deadline:
                return DbUpdatesPage(updates, str(last))
            time.sleep(POLL_INTERVAL_S)
