"""Reading a month's ledger total right after writing to it, on a CouchDB cluster.

A view answers from one copy of each shard, and a write is acknowledged once a quorum of the
copies took it (two of three): the third learns it a moment later, by the cluster's internal
replication. A total read through that copy right after a write misses the write. A rollover
made from such a total carries too little into the next month (corrected only at a later pass),
and a decision taken from it (blocking, a top-up) is taken on a balance that is not the one the
ledger holds.

So a process remembers the ledger entries it wrote in the last few minutes, per database, and
reads a total that must include them in three parts: the view's sum of everything created up to
a minute before the earliest-dated of them (long replicated everywhere), the later rows listed
one by one with their ids, and the remembered entries that listing lacks. On one server (one copy) and in the
embedded store a view sees every write: nothing is remembered there and a total is one query.
This covers Kazbill's own writes; Kazoo's, or another Kazbill process's, are seen once the copy
has them (docs/couchdb-cluster.md).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.ledger import signed_amount
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.pass_reads import store_identity

RECENT_S = 300  # how long after it was written a write is taken to be possibly missing from a copy
MARGIN_S = 60  # the listed range starts this long before the oldest remembered write


@dataclass(frozen=True)
class Written:
    doc_id: str
    created: int  # its pvt_created, the view's key (a late entry's may be well before it was written)
    amount: int  # signed: a debit is negative
    written: int  # when this process wrote it


class RecentLedgerWrites:
    """The ledger entries one store's user wrote lately, per monthly database."""

    def __init__(self) -> None:
        self._by_db: dict[str, dict[str, Written]] = {}
        self._lock = threading.Lock()

    def remember(self, db: str, docs: Iterable[Mapping[str, Any]], now_gregorian: int) -> None:
        entries = [
            Written(doc["_id"], int(doc.get("pvt_created") or 0), signed_amount(doc), now_gregorian)
            for doc in docs
            if doc.get("pvt_type") == "ledger" and isinstance(doc.get("amount"), int)
        ]
        with self._lock:
            known = self._by_db.setdefault(db, {})
            known.update({entry.doc_id: entry for entry in entries})

    def recent(self, db: str, now_gregorian: int) -> list[Written]:
        with self._lock:
            known = self._by_db.get(db, {})
            for doc_id in [doc_id for doc_id, entry in known.items() if entry.written < now_gregorian - RECENT_S]:
                del known[doc_id]
            return list(known.values())


_RECENT: weakref.WeakKeyDictionary[DocumentStore, RecentLedgerWrites] = weakref.WeakKeyDictionary()
_CLUSTERED: weakref.WeakKeyDictionary[DocumentStore, bool] = weakref.WeakKeyDictionary()


def on_a_cluster(store: DocumentStore, db: str) -> bool:
    """Whether the monthly databases are kept in several copies (asked once per store)."""
    store = store_identity(store)
    if store not in _CLUSTERED:
        try:
            copies = store.database_info(db).copies
        except DatabaseNotFound:
            return False  # asked again once there is a database to ask about
        _CLUSTERED[store] = copies is not None and copies > 1
    return _CLUSTERED[store]


def remember_written(store: DocumentStore, db: str, docs: Iterable[Mapping[str, Any]], now_gregorian: int) -> None:
    if on_a_cluster(store, db):
        _RECENT.setdefault(store_identity(store), RecentLedgerWrites()).remember(db, docs, now_gregorian)


def ledger_total(store: DocumentStore, db: str, now_gregorian: int, *, until: int | None = None) -> int:
    """The signed sum of `db`'s ledgers (created until `until`, if given), this process's
    latest writes included even where the copy answering has not got them yet."""
    known = _RECENT.get(store_identity(store))
    recent = known.recent(db, now_gregorian) if known is not None else []
    recent = [entry for entry in recent if until is None or entry.created <= until]
    if not recent:
        rows = store.query_view(db, "kazbill_ledgers", "balance_by_created", ViewQuery(end_key=until)).rows
        return rows[0].value if rows else 0
    cutoff = min(entry.created for entry in recent) - MARGIN_S
    before = store.query_view(
        db, "kazbill_ledgers", "balance_by_created", ViewQuery(end_key=cutoff, inclusive_end=False)
    ).rows
    listed = store.query_view(
        db, "kazbill_ledgers", "balance_by_created", ViewQuery(start_key=cutoff, end_key=until, reduce=False)
    ).rows
    seen = {row.id for row in listed}
    return (
        (before[0].value if before else 0)
        + sum(row.value for row in listed)
        + sum(entry.amount for entry in recent if entry.doc_id not in seen)
    )
