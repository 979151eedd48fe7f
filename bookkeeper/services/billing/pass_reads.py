"""One pass, each document read once: the store as one billing pass sees it.

Charging one call up a three-level reseller chain asked the store 55 times, 15 of them whether
the same account databases exist, and read each account's onbill document up to four times
(the account's settings, its reseller's, the balance guard, the rate deck): a request each on
CouchDB. Within one pass those answers would not change: the shard running the pass is the only
one billing the account, and the pass's own writes go through this wrapper, which forgets what
they touch (the next read fetches the stored revision). So a pass asks for each document, and
for each database's existence, once; and an account's databases (its own and its months) are
listed in one request the first time one of them is asked about, instead of one request per
month (a new account's ledger looks three years back for months Kazoo may have written). Feeds
and leaves are never kept, nor views, a view must show the pass's own ledger writes, but for
the account's quantities (QUANTITY_DESIGN), kept until the pass writes to that database: the
pass counts and dates the same rows. (Read twice, a CouchDB cluster could answer the count from
one copy and the dates from another one still without a new number, and the number would be
dated too early.) A pass is one event; the next one starts from the store again.
"""

from __future__ import annotations

import contextlib
import copy
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from bookkeeper.domain.kazoo_names import account_db, parse_db_name
from bookkeeper.ports import (
    BulkResult,
    DatabaseNotFound,
    DocumentStore,
    NotFound,
    PutResult,
    ViewQuery,
    ViewResult,
    ViewRow,
)
from bookkeeper.services.billing.batch_reads import BatchReads, shared_by_the_batch

_ABSENT = None  # a document the pass found missing (a later write makes it present again)
# Databases this process has seen exist, per store: a database, once made, stays (Kazbill never
# deletes an account's; Kazoo deletes them with the account, and then the first request that
# finds one gone takes it out again, and the pass's retry asks afresh). An account's pass used to
# list its databases once per pass (a request of its own on CouchDB, 25 ms under load there);
# with its months known, it asks only about months it has not seen. Absence is never kept:
# another process, or Kazoo, may make a database at any moment.
_KNOWN: weakref.WeakKeyDictionary[DocumentStore, set[str]] = weakref.WeakKeyDictionary()
_KNOWN_MAX = 500_000  # names; past it the registry starts afresh
QUANTITY_DESIGN = "kazbill_quantities"  # what an account holds: Kazoo's documents, not the pass's writes


def json_copy(value: Any) -> Any:
    """A copy of a JSON value, for a caller free to change what it is handed: what the store
    returns is dicts, lists and immutable scalars, copied here several times faster than
    copy.deepcopy does (which weighed a fifth of a reconcile, in its memo and dispatch)."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)  # not JSON (a tuple from a stand-in store): copied the slow way


def database_exists_now(store: DocumentStore, db: str) -> bool:
    """Whether `db` exists, asked of the store itself even inside a pass (PassReads keeps the
    answer it gets)."""
    fresh = getattr(store, "database_exists_now", None)
    return bool(fresh(db)) if fresh is not None else store.database_exists(db)


def prefetch(store: DocumentStore, db: str, doc_ids: Iterable[str]) -> None:
    """Documents a pass will read one by one, read in one request when `store` is a pass's
    (PassReads); for any other store, nothing (each read then goes to it when it comes)."""
    if isinstance(store, PassReads):
        store.prefetch(db, doc_ids)


def store_identity(store: DocumentStore) -> DocumentStore:
    """The store itself behind a pass's wrapper: what per-store registries are keyed by."""
    return getattr(store, "backing", store)


class PassReads:
    def __init__(self, store: DocumentStore, *, batch: BatchReads | None = None, account_id: str | None = None):
        self.backing = store_identity(store)
        self._batch = batch  # what the batch's passes share (batch_reads.py); None: a pass alone
        self._account_id = account_id  # whose pass this is: its own databases are never shared
        self._docs: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._databases: set[str] = set()
        self._absent_databases: set[str] = set()
        self._listed_accounts: set[str] = set()  # account databases whose family has been listed
        self._views: dict[tuple[str, str, str], ViewResult] = {}
        self._under: dict[tuple[str, str, str, str], list[ViewRow]] = {}  # rows_under's keys read ahead

    def __getattr__(self, name: str) -> Any:  # everything not kept goes to the store as it is
        self.__dict__.get("_under", {}).clear()  # (whatever it answers may be newer: see rows_under)
        return getattr(self.backing, name)

    # ------------------------------------------------------------------ databases

    def database_exists(self, db: str) -> bool:
        parsed = parse_db_name(db)  # kept under the canonical name, whichever spelling asks
        if parsed.name in self._databases:
            return True
        if parsed.name in self._absent_databases:
            return False
        known = _known_databases(self.backing)
        if parsed.name in known:
            self._databases.add(parsed.name)
            return True
        if parsed.account_id is not None:
            family = account_db(parsed.account_id)
            if family not in self._listed_accounts:
                self._under.clear()
                listed = self.backing.list_databases(family)  # canonical names
                self._databases.update(listed)
                known.update(listed)
                self._listed_accounts.add(family)
            exists = parsed.name in self._databases
        else:
            self._under.clear()
            exists = self.backing.database_exists(db)
        self._known(db, exists)
        return exists

    def database_exists_now(self, db: str) -> bool:
        """Asked of the store, not of what the pass knows: for the months around now, which
        Kazoo or another Kazbill process may create while the pass runs (the midnight race)."""
        self._under.clear()
        exists = self.backing.database_exists(db)
        self._known(db, exists)
        return exists

    def _known(self, db: str, exists: bool) -> None:
        name = parse_db_name(db).name
        (self._databases if exists else self._absent_databases).add(name)
        (self._absent_databases if exists else self._databases).discard(name)
        known = _known_databases(self.backing)
        if exists:
            known.add(name)
        else:
            known.discard(name)

    @contextlib.contextmanager
    def _gone_if_missing(self, db: str) -> Iterator[None]:
        """A request that finds the database missing: neither the pass nor the process thinks
        it exists any more."""
        try:
            yield
        except DatabaseNotFound:
            self._known(db, False)
            raise

    def ensure_database(self, db: str) -> bool:
        self._under.clear()
        created = self.backing.ensure_database(db)
        self._known(db, True)
        return created

    def create_database(self, db: str) -> None:
        self._under.clear()
        self.backing.create_database(db)
        self._known(db, True)

    def delete_database(self, db: str) -> None:
        self._known(db, False)
        self._docs = {key: doc for key, doc in self._docs.items() if key[0] != db}
        self._views = {key: rows for key, rows in self._views.items() if key[0] != db}
        self._under.clear()
        self.backing.delete_database(db)

    # ------------------------------------------------------------------ views

    def query_view(self, db: str, design: str, view: str, query: ViewQuery = ViewQuery()) -> ViewResult:
        if design != QUANTITY_DESIGN:
            self._under.clear()
            with self._gone_if_missing(db):
                return self.backing.query_view(db, design, view, query)
        key = (db, view, repr(query))
        if key not in self._views:
            self._under.clear()
            with self._gone_if_missing(db):
                self._views[key] = self.backing.query_view(db, design, view, query)
        kept = self._views[key]
        return ViewResult(_copied(kept.rows), kept.total_rows)

    def rows_under(self, db: str, design: str, view: str, key: str, then: Sequence[str] = ()) -> list[ViewRow]:
        """The view's rows whose key begins with `key`, with their documents. `then`: keys after
        it that the pass asks for next: one range query answers them too, and their rows are kept
        for that next read. A pass reads its previous period's charges and then its current
        period's, a moment apart and from the same months (opening.py): one query a month
        instead of two. A key asked again is read afresh, as any other view query is.

        What is kept is served only while nothing newer than it has reached the pass: any write
        by the pass (to any database), and any read that goes to the store, drops it. Another
        process may open the same period meanwhile (the API reconciles too); what the pass then
        reads of it (its marker, fresh) must not be followed by entries older than that marker,
        or the period's charges would be decided again from none."""
        kept = self._under.pop((db, design, view, key), None)
        if kept is not None:
            return _copied(kept)
        ahead = sorted({later for later in then if later > key})
        query = ViewQuery(start_key=[key], end_key=[ahead[-1] if ahead else key, {}], include_docs=True)
        with self._gone_if_missing(db):  # (not query_view: the read-ahead of the other months stays)
            rows = self.backing.query_view(db, design, view, query).rows
        for later in ahead:
            self._under[(db, design, view, later)] = [row for row in rows if _first_key(row) == later]
        return [row for row in rows if _first_key(row) == key]

    # ------------------------------------------------------------------ documents

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        key = (db, doc_id)
        if key not in self._docs:
            self._under.clear()
            try:
                with self._gone_if_missing(db):  # not kept as a missing document: it is no NotFound
                    self._docs[key] = self._reader(db).get(db, doc_id)
            except NotFound:
                self._docs[key] = _ABSENT
                raise
        doc = self._docs[key]
        if doc is _ABSENT:
            raise NotFound(db, doc_id)
        return json_copy(doc)

    def get_from_every_copy(self, db: str, doc_id: str) -> dict[str, Any] | None:
        """Asked of the store's every copy, and kept: the pass's later reads of the document see
        what was found, not the miss the quorum answered before (context._from_every_copy)."""
        self._under.clear()
        found = self.backing.get_from_every_copy(db, doc_id)
        self._docs[(db, doc_id)] = _ABSENT if found is None else found
        return None if found is None else json_copy(found)

    def get_many(self, db: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(doc_ids))
        unknown = [doc_id for doc_id in wanted if (db, doc_id) not in self._docs]
        if unknown:
            self._under.clear()
            with self._gone_if_missing(db):  # newer than the family's listing
                found = self._reader(db).get_many(db, unknown)
            self._known(db, True)
            for doc_id in unknown:
                self._docs[(db, doc_id)] = found.get(doc_id, _ABSENT)
        return {doc_id: json_copy(doc) for doc_id in wanted if (doc := self._docs[(db, doc_id)]) is not _ABSENT}

    def prefetch(self, db: str, doc_ids: Iterable[str]) -> None:
        """Read documents the pass will ask for one by one in one request (absent ones included);
        a database that does not exist is left for the reads themselves to find out."""
        with contextlib.suppress(DatabaseNotFound):
            self.get_many(db, doc_ids)

    def _reader(self, db: str) -> DocumentStore | BatchReads:
        if self._batch is not None and shared_by_the_batch(db, self._account_id):
            return self._batch
        return self.backing

    def _forget(self, db: str, doc_ids: Iterable[str]) -> None:
        doc_ids = list(doc_ids)
        if self._batch is not None:
            self._batch.forget(db, doc_ids)
        for doc_id in doc_ids:
            self._docs.pop((db, doc_id), None)
        self._views = {key: rows for key, rows in self._views.items() if key[0] != db}
        self._under.clear()  # (another process may have written elsewhere meanwhile: see rows_under)

    def put(self, db: str, doc: Mapping[str, Any]) -> PutResult:
        try:
            with self._gone_if_missing(db):
                return self.backing.put(db, doc)
        finally:
            self._forget(db, [doc["_id"]] if "_id" in doc else [])

    def bulk_put(self, db: str, docs: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        try:
            with self._gone_if_missing(db):
                return self.backing.bulk_put(db, docs)
        finally:
            self._forget(db, [doc["_id"] for doc in docs if "_id" in doc])

    def delete(self, db: str, doc_id: str, rev: str) -> PutResult:
        try:
            return self.backing.delete(db, doc_id, rev)
        finally:
            self._forget(db, [doc_id])

    def soft_delete(self, db: str, doc_id: str) -> PutResult:
        try:
            return self.backing.soft_delete(db, doc_id)
        finally:
            self._forget(db, [doc_id])

    def put_attachment(
        self, db: str, doc_id: str, name: str, data: bytes, content_type: str, rev: str | None
    ) -> PutResult:
        try:
            return self.backing.put_attachment(db, doc_id, name, data, content_type, rev)
        finally:
            self._forget(db, [doc_id])


def _copied(rows: Iterable[ViewRow]) -> list[ViewRow]:
    """Rows a pass may change without changing what it keeps."""
    return [ViewRow(json_copy(row.key), json_copy(row.value), row.id, json_copy(row.doc)) for row in rows]


def _first_key(row: ViewRow) -> Any:
    return row.key[0] if isinstance(row.key, list) and row.key else None


def known_to_exist(store: DocumentStore, db: str) -> bool:
    """Whether this process has seen `db` exist and no request has found it gone since."""
    return parse_db_name(db).name in _KNOWN.get(store_identity(store), ())


def _known_databases(store: DocumentStore) -> set[str]:
    known = _KNOWN.setdefault(store, set())
    if len(known) >= _KNOWN_MAX:
        known.clear()
    return known
