"""A page of an account's transactions, newest first, read a page at a time.

Each month database answers its `entries_by_created` rows from the page's position down
(descending: newest first, ties by entry id, highest first), in chunks of about a page; the
months' rows are merged and the page cut from them. A row's value is what a transaction shows of
its entry, so no document is opened: CouchDB 3.4.3 answered a page of 50 that way 2.5 times
faster than with `include_docs` (270 against 110 a second here). A page of 50 out of
thousands of entries costs one view query per month in the range, not a read of every entry.
The position of the next page is the (created, id) of its first entry: CouchDB's own view order,
so a view query can start exactly there (`start_key` and `start_key_doc_id`)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery, ViewRow
from crossbar_api.month_tops import MonthTops

MAX_CHUNK = 1_000  # rows a month answers at once while a filter keeps few of them


@dataclass(frozen=True)
class Entry:
    created: int
    entry_id: str
    doc: dict[str, Any]


def _shown(row: ViewRow) -> dict[str, Any] | None:
    """The entry as `entries_by_created` shows it (its id put back); None for a rollover that
    carried nothing over (Kazoo writes those too: no money moved)."""
    if not isinstance(row.value, dict):
        return None
    entry = {"_id": str(row.id), **row.value}
    if entry.get("amount") == 0 and entry["_id"].endswith("-ledgers_monthly_rollover"):
        return None
    return entry


def _month_rows(store: DocumentStore, db: str, query: ViewQuery) -> list[ViewRow]:
    """`entries_by_created` of one month; nothing for a month deleted since it was listed (Kazoo
    archives old months)."""
    try:
        return store.query_view(db, "kazbill_ledgers", "entries_by_created", query).rows
    except DatabaseNotFound:
        return []


def newest_first(
    store: DocumentStore,
    month_dbs: list[str],
    span: tuple[int, int],
    page_size: int,
    position: tuple[int, str] | None = None,
    keep: Callable[[dict[str, Any]], bool] = lambda doc: True,
    tops: MonthTops | None = None,
) -> tuple[list[Entry], Entry | None]:
    """The page of entries created within `span` (from, to; gregorian seconds, both included) at
    or after `position`, and the first entry of the next page (None: this is the last). `tops`:
    the worker's kept rows of the months (CouchDB), for each month's first chunk."""
    wanted = page_size + 1
    candidates: list[Entry] = []
    for db in month_dbs:
        kept = 0
        for entry in _month_entries(store, db, span, position, wanted, tops):
            if keep(entry.doc):
                candidates.append(entry)
                kept += 1
                if kept == wanted:  # more from this month could not reach the page
                    break
    candidates.sort(key=lambda entry: (entry.created, entry.entry_id), reverse=True)
    return candidates[:page_size], (candidates[page_size] if len(candidates) > page_size else None)


def every_entry(
    store: DocumentStore,
    month_dbs: list[str],
    span: tuple[int, int],
    keep: Callable[[dict[str, Any]], bool] = lambda doc: True,
) -> Iterator[dict[str, Any]]:
    """Every entry created within `span`, newest first (a CSV export): each month read lazily a
    chunk at a time and the months merged, so a long range is never held whole in memory."""
    months = (_month_entries(store, db, span, None, MAX_CHUNK) for db in month_dbs)
    merged = heapq.merge(*months, key=lambda entry: (entry.created, entry.entry_id), reverse=True)
    kept = (entry.doc for entry in merged if keep(entry.doc))
    # Each month's first chunk read now, before anything is sent: a store that fails the export
    # fails it with an error status, not with a 200 and a file cut short.
    first = list(itertools.islice(kept, 1))
    return itertools.chain(first, kept)


def _month_entries(
    store: DocumentStore,
    db: str,
    span: tuple[int, int],
    position: tuple[int, str] | None,
    wanted: int,
    tops: MonthTops | None = None,
) -> Iterator[Entry]:
    """One month's entries in view order from the position down; the caller stops reading once it
    holds enough (at most `wanted` kept, so the chunks stay near a page unless a filter drops rows)."""
    created_from, created_to = span
    start: tuple[int, str | None] = (created_to, None)
    if position is not None and position[0] <= created_to:
        start = position
    if start[0] < created_from:
        return
    chunk, last = wanted + 1, None  # one more: a zero rollover may be among them
    while True:
        if tops is not None and start[1] is None:  # from the top of a key: the kept rows may do
            try:
                rows = tops.rows(store, db, start[0], created_from, chunk)
            except DatabaseNotFound:
                rows = _month_rows(store, db, ViewQuery(limit=0))  # (the store's wrapper learns it is gone)
        else:
            rows = _month_rows(
                store,
                db,
                ViewQuery(
                    descending=True, start_key=start[0], start_key_doc_id=start[1], end_key=created_from, limit=chunk
                ),
            )
        for row in rows:
            if (row.key, row.id) == last:
                continue  # the previous chunk's last row, where this one starts
            if (entry := _shown(row)) is not None and _whole(row.key):
                yield Entry(int(row.key), str(row.id), entry)
        if len(rows) < chunk:
            return
        # The next chunk starts at this one's last row (not skip=1: were that row deleted
        # meanwhile, the skip would pass over the one after it).
        last = (rows[-1].key, rows[-1].id)
        start, chunk = (rows[-1].key, str(rows[-1].id)), max(2, min(chunk * 2, MAX_CHUNK))  # 2: past the overlap


def _whole(key: Any) -> bool:
    """Kazoo's `pvt_created` is whole seconds; a row keyed otherwise cannot be positioned."""
    return (isinstance(key, int) and not isinstance(key, bool)) or (isinstance(key, float) and key.is_integer())
