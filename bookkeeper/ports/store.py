"""The document store port: CouchDB's document model as Kazbill uses it, its values and errors.

Sequences (`since`, `last_seq`) are opaque strings: CouchDB 3 hands out values like
"12-g1AAAA..." on which no arithmetic is possible, so nothing here ever compares or adds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bookkeeper.domain.cluster_writes import Leaf

# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base of every error a store raises; the message always names the database or URL."""

    http_status: int | None = None  # what an HTTP store answered, when it answered


class StoreUnavailable(StoreError):
    """The server cannot be reached or answered garbage. Carries the URL, never a traceback."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"cannot reach the store at {url}: {reason}")
        self.url = url
        self.reason = reason


class DatabaseNotFound(StoreError):
    def __init__(self, db: str):
        super().__init__(f"database {db!r} does not exist")
        self.db = db


class DatabaseExists(StoreError):
    def __init__(self, db: str):
        super().__init__(f"database {db!r} already exists")
        self.db = db


class InvalidDatabaseName(StoreError):
    def __init__(self, db: str, reason: str):
        super().__init__(f"invalid database name {db!r}: {reason}")
        self.db = db
        self.reason = reason


class NotFound(StoreError):
    """A document, design document, view or attachment that does not exist (or was deleted)."""

    def __init__(self, db: str, doc_id: str, what: str = "document"):
        super().__init__(f"{what} {doc_id!r} not found in database {db!r}")
        self.db = db
        self.doc_id = doc_id


class Conflict(StoreError):
    """The write lost against a newer revision, or the id exists already.

    For documents with deterministic ids (ledger entries, markers) this means "already done":
    the same business event was written before.
    """

    def __init__(self, db: str, doc_id: str):
        super().__init__(f"document {doc_id!r} in database {db!r}: update conflict")
        self.db = db
        self.doc_id = doc_id


class InvalidDocument(StoreError):
    """A document (or id) the store refuses; `field` names the offending field path."""

    def __init__(self, db: str, field: str, reason: str):
        super().__init__(f"invalid document for database {db!r}: field {field!r}: {reason}")
        self.db = db
        self.field = field
        self.reason = reason


class InvalidQuery(StoreError):
    """A view query the store cannot run (bad parameters, a reduce it does not support)."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ServerInfo:
    adapter: str  # "couchdb" or "embedded"
    vendor: str
    version: str
    location: str  # URL with the password masked, or the SQLite file path
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulkResult:
    id: str
    rev: str | None = None
    error: str | None = None  # "conflict", "forbidden", ...
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def conflict(self) -> bool:
        return self.error == "conflict"


@dataclass(frozen=True)
class Attachment:
    content_type: str
    data: bytes
    digest: str  # "md5-<base64>", as CouchDB reports it


@dataclass(frozen=True)
class ViewQuery:
    """CouchDB view parameters. `None` means "the server's default"."""

    key: Any = None
    keys: Sequence[Any] | None = None
    start_key: Any = None
    end_key: Any = None
    start_key_doc_id: str | None = None
    end_key_doc_id: str | None = None
    inclusive_end: bool = True
    descending: bool = False
    reduce: bool | None = None  # None: reduce when the view has one
    group: bool = False
    group_level: int | None = None
    include_docs: bool = False
    limit: int | None = None
    skip: int = 0
    # `key=None` cannot mean "the key null"; this flag says the key given is meant even if None.
    key_is_set: bool = False
    # Whether a map query's `total_rows` is wanted. CouchDB always counts; the embedded store counts
    # only when asked: a count is O(rows), and a month of calls grew every rating batch's cost with it.
    count_rows: bool = False

    def has_key(self) -> bool:
        return self.key is not None or self.key_is_set


@dataclass(frozen=True)
class ViewRow:
    key: Any
    value: Any
    id: str | None = None  # absent on reduced rows
    doc: dict[str, Any] | None = None


@dataclass(frozen=True)
class ViewResult:
    rows: list[ViewRow]
    total_rows: int | None = None  # map queries only; from the embedded store only with count_rows

    def values(self) -> list[Any]:
        return [row.value for row in self.rows]


@dataclass(frozen=True)
class Change:
    id: str
    seq: str
    rev: str
    deleted: bool = False
    doc: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    last_seq: str  # pass back as `since` to continue after this page
    # A longpoll the server did not answer within its wait (the client gave up): nothing is known
    # of what happened meanwhile, which an empty answer from the server would have said.
    expired: bool = False


@dataclass(frozen=True)
class DbUpdate:
    db: str  # canonical (unencoded) name
    kind: str  # "created", "updated" or "deleted"


@dataclass(frozen=True)
class DbUpdatesPage:
    updates: list[DbUpdate]
    last_seq: str


@dataclass(frozen=True)
class DatabaseInfo:
    name: str
    doc_count: int
    update_seq: str
    copies: int | None = None  # n, each document's copies on a cluster; None: one server, no shards


@dataclass(frozen=True)
class PutResult:
    id: str
    rev: str


# --------------------------------------------------------------------------- the port


class DocumentStore(Protocol):
    """CouchDB's document model as Kazbill uses it. Database names are given in Kazoo's
    unencoded form (`account/aa/bb/rest`); adapters encode them for their transport and
    accept the encoded form too."""

    def server_info(self) -> ServerInfo: ...

    # databases
    def create_database(self, db: str) -> None: ...  # DatabaseExists if present
    def ensure_database(self, db: str) -> bool: ...  # True when it was created now
    def delete_database(self, db: str) -> None: ...  # DatabaseNotFound if absent
    def database_exists(self, db: str) -> bool: ...
    # canonical names, sorted; with a prefix, those starting with it (an account's databases in one request)
    def list_databases(self, prefix: str = "") -> list[str]: ...
    def database_info(self, db: str) -> DatabaseInfo: ...

    # documents
    def get(self, db: str, doc_id: str) -> dict[str, Any]: ...  # NotFound
    def get_many(self, db: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...
    # The document as any copy holds it (its winning live revision), None if none does: on a
    # cluster, a read right after a write that fewer copies than the quorum took yet (a 202) can
    # miss it at the quorum; this asks every copy. For "not found" that would be a failure.
    def get_from_every_copy(self, db: str, doc_id: str) -> dict[str, Any] | None: ...
    def put(self, db: str, doc: Mapping[str, Any]) -> PutResult: ...  # Conflict
    def bulk_put(self, db: str, docs: Sequence[Mapping[str, Any]]) -> list[BulkResult]: ...
    def delete(self, db: str, doc_id: str, rev: str) -> PutResult: ...  # hard delete (tombstone)
    # Every leaf revision, deleted ones too: more than one live leaf is a conflict (a cluster's
    # racing writers); bookkeeper/domain/cluster_writes.py says which one stands. [] if none.
    def leaves(self, db: str, doc_id: str) -> list[Leaf]: ...
    def soft_delete(self, db: str, doc_id: str) -> PutResult: ...  # Kazoo's pvt_deleted: true

    # attachments
    def put_attachment(
        self, db: str, doc_id: str, name: str, data: bytes, content_type: str, rev: str | None
    ) -> PutResult: ...
    def get_attachment(self, db: str, doc_id: str, name: str) -> Attachment: ...

    # local (never replicated, never in the changes feed) documents, e.g. checkpoints
    def get_local(self, db: str, local_id: str) -> dict[str, Any] | None: ...
    def put_local(self, db: str, local_id: str, body: Mapping[str, Any]) -> None: ...

    # views
    def query_view(self, db: str, design: str, view: str, query: ViewQuery = ViewQuery()) -> ViewResult: ...
    def all_docs(self, db: str, query: ViewQuery = ViewQuery()) -> ViewResult: ...

    # feeds
    def changes(
        self,
        db: str,
        since: str = "0",
        *,
        limit: int | None = None,
        include_docs: bool = False,
        timeout_s: float | None = None,  # None: answer at once; else long-poll up to this long
    ) -> ChangesPage: ...
    def db_updates(self, since: str = "0", *, timeout_s: float | None = None) -> DbUpdatesPage: ...

    def close(self) -> None: ...


def put_making_database(store: DocumentStore, db: str, doc: Mapping[str, Any]) -> PutResult:
    """Write a document to one of Kazbill's own databases, making the database first when it is
    missing (the first such write of a fresh install). Conflict as `put` raises it."""
    try:
        return store.put(db, doc)
    except DatabaseNotFound:
        store.ensure_database(db)
        return store.put(db, doc)


def put_once(store: DocumentStore, db: str, doc: Mapping[str, Any]) -> bool:
    """Write a document with a deterministic id; False when it was written before.

    This is how an at-least-once delivery becomes an exactly-once effect."""
    try:
        store.put(db, doc)
    except Conflict:
        return False
    return True
