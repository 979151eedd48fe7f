"""What the CouchDB adapter does itself where a CouchDB-compatible server falls short:
document-id bounds on views (PouchDB's map/reduce has none), and the list of changed databases
where a server has no `_db_updates` (pouchdb-server answers 400). Real CouchDB 3 needs neither."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from bookkeeper.ports import DbUpdate, DbUpdatesPage, ViewQuery, ViewResult, ViewRow

_POLL_INTERVAL_S = 0.2
_REMEMBERED_SNAPSHOTS = 16


def view_result(rows: list[Mapping[str, Any]], result: Mapping[str, Any]) -> ViewResult:
    # With keys=, CouchDB adds rows for missing ids ("error") and for deleted documents;
    # like get_many, views here show live documents only.
    live = [
        r for r in rows if "error" not in r and not (isinstance(r.get("value"), dict) and r["value"].get("deleted"))
    ]
    return ViewResult(
        [ViewRow(r.get("key"), r.get("value"), r.get("id"), r.get("doc")) for r in live], result.get("total_rows")
    )


def doc_id_window(rows: list[Mapping[str, Any]], query: ViewQuery) -> list[Mapping[str, Any]]:
    """start_key_doc_id, end_key_doc_id and inclusive_end, then skip and limit, applied to a
    whole key range for servers without doc-id bounds. Equal keys sort by id, code point order."""
    first = query.key if query.has_key() else query.start_key
    last = query.key if query.has_key() else query.end_key
    bounded_end = query.has_key() or last is not None

    def before(a: str, b: str) -> bool:
        return a > b if query.descending else a < b

    def at(row: Mapping[str, Any], key: Any) -> bool:
        return "id" in row and json.dumps(row.get("key")) == json.dumps(key)

    def beyond_end(row_id: str) -> bool:
        bound = query.end_key_doc_id
        if bound is None or row_id == bound:
            return not query.inclusive_end
        return before(bound, row_id)

    start, end = 0, len(rows)
    start_id = query.start_key_doc_id
    if start_id is not None and (query.has_key() or first is not None):  # a bounded start
        while start < end and at(rows[start], first) and before(rows[start]["id"], start_id):
            start += 1
    while bounded_end and end > start and at(rows[end - 1], last) and beyond_end(rows[end - 1]["id"]):
        end -= 1
    window = rows[start:end][query.skip :]
    return window if query.limit is None else window[: query.limit]


class DbUpdatesPoller:
    """_db_updates by comparing listings: `snapshot()` gives {database: update_seq}."""

    def __init__(self, snapshot: Callable[[], dict[str, str]]):
        self._snapshot = snapshot
        self._poll_tag, self._poll_count = secrets.token_hex(3), 0
        self._poll_snapshots: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def updates(self, since: str, timeout_s: float | None) -> DbUpdatesPage:
        # Without _db_updates, compare listings. Each token names a snapshot remembered here;
        # "0", or a token this instance does not know, reports every database as created.
        with self._lock:
            base = self._poll_snapshots.get(since)
        deadline = time.monotonic() + (timeout_s or 0)
        while True:
            now, old = self._snapshot(), base or {}
            updates = (
                [DbUpdate(db, "created") for db in sorted(now.keys() - old.keys())]
                + [DbUpdate(db, "updated") for db in sorted(now.keys() & old.keys()) if now[db] != old[db]]
                + [DbUpdate(db, "deleted") for db in sorted(old.keys() - now.keys())]
            )
            if updates or time.monotonic() >= deadline:
                break
            time.sleep(_POLL_INTERVAL_S)
        if not updates and base is not None:
            return DbUpdatesPage([], since)
        with self._lock:
            self._poll_count += 1
            token = f"poll-{self._poll_tag}-{self._poll_count}"
            self._poll_snapshots[token] = now
            while len(self._poll_snapshots) > _REMEMBERED_SNAPSHOTS:
                self._poll_snapshots.popitem(last=False)
        return DbUpdatesPage(updates, token)
