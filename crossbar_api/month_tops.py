"""The newest rows of a month's transactions, kept by an API worker while the month's database is
unchanged, on CouchDB. A reseller's console reading an account's first page again (its usual
poll) then costs CouchDB a database-info read instead of a page of view rows, and the worker no
parse of them: on two shared cores a page of 50 rows cost CouchDB 2.7 ms of CPU and the worker
2.1 ms, which held `transactions` to ~330-400 req/s (docs/benchmarks.md, session 52).

Checked on every read, never trusted for a time. The database's `update_seq` is read first, and
the kept rows are used only when it is still the one they were read after; any write to the month
(an entry, a design document) changes it. Rows read after the seq hold everything it stands for.
Only for a month with one copy of each shard (a single server, or a cluster database made with
n=1): with more, the seq could come from one copy and the rows from another not yet holding a
write, and keeping them would hold that write back until the month's next one. A month with
more copies is remembered as such and read as before, without the info read.

Used for a page's first chunk of a month (no position inside it, crossbar_api/transaction_pages.py):
the rows of the key range are cut from the month's newest rows in CouchDB's own descending order
(numbers after strings, arrays and objects, before booleans and null), or read as before when the
kept rows do not reach far enough. Each caller gets copies: the kept rows are every request's.
Bounded by rows, not months; a page of up to 100 is kept, a bigger one read as before."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bookkeeper.ports import DocumentStore, ViewQuery, ViewRow
from bookkeeper.services.billing.pass_reads import json_copy

DESIGN, VIEW = "kazbill_ledgers", "entries_by_created"
# Rows kept per worker, all months together; the least recently read months go first. A row as
# the client holds it is some 2.3 KB (measured), so about 46 MB a worker.
MAX_KEPT_ROWS = 20_000
MAX_KEPT_LIMIT = 102  # pages of up to 100 (50 by default): a bigger one is read as before


@dataclass(frozen=True)
class _Kept:
    seq: str | None  # None: the month has more than one copy, never kept
    rows: tuple[ViewRow, ...] = ()
    limit: int = 0  # what the rows were read with
    complete: bool = False  # every row of the view


class MonthTops:
    """One per API worker (ApiDeps), for a CouchDB store."""

    def __init__(self, max_rows: int = MAX_KEPT_ROWS):
        self.max_rows = max_rows
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._rows = 0  # kept, all months together
        self._lock = threading.Lock()
        self.hits = 0  # (read by tests and the benchmark)

    def rows(self, store: DocumentStore, db: str, start: int, end: int, limit: int) -> list[ViewRow]:
        """What `entries_by_created` answers descending from key `start` (every row of it) down to
        `end` (included), at most `limit` rows, each the caller's own; DatabaseNotFound for a
        month gone."""
        if limit > MAX_KEPT_LIMIT:
            return _exact(store, db, start, end, limit)
        with self._lock:
            kept = self._kept.get(db)
            if kept is not None:
                self._kept.move_to_end(db)
        if kept is not None and kept.seq is None:
            return _exact(store, db, start, end, limit)
        info = store.database_info(db)
        if info.copies != 1:
            self._keep(db, _Kept(None))
            return _exact(store, db, start, end, limit)
        if kept is not None and kept.seq == info.update_seq:
            answer = _cut(kept, start, end, limit)
            if answer is not None:
                with self._lock:
                    self.hits += 1
                return _copied(answer)
            if kept.limit >= limit:  # read again, the month's newest rows would be these same ones
                return _exact(store, db, start, end, limit)
        newest = store.query_view(db, DESIGN, VIEW, ViewQuery(descending=True, limit=limit)).rows
        kept = _Kept(info.update_seq, tuple(newest), limit, complete=len(newest) < limit)
        self._keep(db, kept)
        answer = _cut(kept, start, end, limit)
        return _copied(answer) if answer is not None else _exact(store, db, start, end, limit)

    def _keep(self, db: str, kept: _Kept) -> None:
        with self._lock:
            before = self._kept.pop(db, None)
            self._rows += len(kept.rows) - (len(before.rows) if before is not None else 0)
            self._kept[db] = kept
            while self._rows > self.max_rows and len(self._kept) > 1:
                _, gone = self._kept.popitem(last=False)
                self._rows -= len(gone.rows)


def _copied(rows: list[ViewRow]) -> list[ViewRow]:
    """The kept rows are every request's: a caller gets values of its own to change."""
    return [ViewRow(json_copy(row.key), json_copy(row.value), row.id, row.doc) for row in rows]


def _exact(store: DocumentStore, db: str, start: int, end: int, limit: int) -> list[ViewRow]:
    query = ViewQuery(descending=True, start_key=start, end_key=end, limit=limit)
    return store.query_view(db, DESIGN, VIEW, query).rows


def _cut(kept: _Kept, start: int, end: int, limit: int) -> list[ViewRow] | None:
    """The range's rows from the kept ones, or None when they may not hold them all."""
    answer: list[ViewRow] = []
    for row in kept.rows:
        key = row.key
        if not _number(key):
            if _ranks_below_numbers(key):
                return answer  # every number is above it, so every row of the range was seen
            continue  # a string, array or object ranks above numbers: above the range
        if key > start:
            continue
        if key < end:
            return answer
        answer.append(row)
        if len(answer) == limit:
            return answer
    return answer if kept.complete else None


def _number(key: Any) -> bool:
    return isinstance(key, (int, float)) and not isinstance(key, bool)


def _ranks_below_numbers(key: Any) -> bool:
    return key is None or isinstance(key, bool)
