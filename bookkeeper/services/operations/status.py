"""What `kazbill status` reads from the store: the last day crawled per reseller, a cluster's live
nodes, the failures
awaiting a person, the notices and announcements not yet out, and how far the changes follower
is behind each database it follows."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SYSTEM_DB, parse_db_name
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.announcements import OUTBOX_DB
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from bookkeeper.services.cluster.membership import NODES_DB
from bookkeeper.services.documents.document_queue import QUEUE_DB
from bookkeeper.services.payments.hook_attempts import HOOKS_DB
from bookkeeper.services.setup.failures import FAILURES_DB

LAG_CAP = 1000  # changes counted per database; beyond that "1000+" says enough
# The changes follower's checkpoints (`_local` documents), named here so that every reader of the
# lag (the CLI, the API's /metrics) shares them with the follower; in a cluster, "@<node>" follows.
CHECKPOINT_ID = "kazbill_changes"
UPDATES_CHECKPOINT_ID = "kazbill_db_updates"


def checkpoint_of(node: str | None, name: str = CHECKPOINT_ID) -> str:
    return f"{name}@{node}" if node else name


def followed(db: str) -> bool:
    """The databases the changes follower follows: `accounts`, `services` (an account's plans),
    account and monthly databases."""
    return db == ACCOUNTS_DB or parse_db_name(db).kind in ("services", "account", "account-month")


@dataclass
class StoreStatus:
    last_crawl: dict[str, dict[str, str]] = field(default_factory=dict)  # reseller id → {day, name}
    nodes: dict[str, float] = field(default_factory=dict)  # a cluster's live nodes → seconds their lease has left
    failures: dict[str, int] = field(default_factory=dict)  # "source/reason" → count
    notices: dict[str, int] = field(default_factory=dict)  # state → count
    documents: dict[str, int] = field(default_factory=dict)  # document jobs: state → count (failed awaits a person)
    announcements_pending: int = 0
    payment_hooks: dict[str, int] = field(default_factory=dict)  # "gateway/outcome" → distinct notifications
    databases_followed: int = 0
    databases_behind: dict[str, int] = field(default_factory=dict)  # db → changes not yet followed (capped)
    databases_never_followed: int = 0

    def as_json(self) -> dict:
        return dict(self.__dict__)


def store_status(
    store: DocumentStore, *, checkpoint_id: str, followed: Callable[[str], bool], wall: Callable[[], float] = time.time
) -> StoreStatus:
    status = StoreStatus()
    status.nodes = _nodes(store, wall)
    try:
        rows = store.all_docs(
            SYSTEM_DB, ViewQuery(start_key="kazbill_crawl-", end_key="kazbill_crawl-\ufff0", include_docs=True)
        ).rows
        days: dict[str, str] = {}
        for row in rows:  # in a cluster, one record per node: a reseller is crawled up to its live nodes' earliest
            assert row.id is not None  # all_docs rows name their document
            node = row.id.split("@", 1)[1] if "@" in row.id else None
            if status.nodes and node not in status.nodes:
                continue
            if row.doc and "reseller_id" in row.doc and "last_day" in row.doc:
                reseller = row.doc["reseller_id"]
                days[reseller] = min(days.get(reseller, row.doc["last_day"]), row.doc["last_day"])
        names = store.get_many(ACCOUNTS_DB, list(days)) if days else {}
        status.last_crawl = {
            reseller: {"day": day, "name": names.get(reseller, {}).get("name", "")} for reseller, day in days.items()
        }
    except DatabaseNotFound:
        pass
    status.failures = _grouped(store, FAILURES_DB, "kazbill_failures", "by_source", level=2)
    status.notices = _grouped(store, NOTICES_DB, "kazbill_notices", "by_state", level=1)
    status.documents = _grouped(store, QUEUE_DB, "kazbill_document_queue", "by_state", level=1)
    status.payment_hooks = _grouped(store, HOOKS_DB, "kazbill_hooks", "by_outcome", level=2)
    with contextlib.suppress(DatabaseNotFound):
        status.announcements_pending = len(store.query_view(OUTBOX_DB, "kazbill_outbox", "pending").rows)
    for db in store.list_databases():
        if not followed(db):
            continue
        status.databases_followed += 1
        checkpoint = store.get_local(db, checkpoint_id)
        if checkpoint is None:
            status.databases_never_followed += 1
            continue
        pending = len(store.changes(db, checkpoint.get("seq", "0"), limit=LAG_CAP).changes)
        if pending:
            status.databases_behind[db] = pending
    return status


def _nodes(store: DocumentStore, wall: Callable[[], float]) -> dict[str, float]:
    try:
        rows = store.all_docs(NODES_DB, ViewQuery(include_docs=True)).rows
    except DatabaseNotFound:
        return {}
    now_ms = int(wall() * 1000)
    return {
        row.id: round((row.doc["expires_at_ms"] - now_ms) / 1000, 1)
        for row in rows
        if row.id is not None
        and row.doc
        and isinstance(row.doc.get("expires_at_ms"), int)
        and row.doc["expires_at_ms"] > now_ms
    }


def _grouped(store: DocumentStore, db: str, design: str, view: str, *, level: int) -> dict[str, int]:
    try:
        rows = store.query_view(db, design, view, ViewQuery(group_level=level)).rows
    except DatabaseNotFound:
        return {}
    return {"/".join(str(part) for part in row.key): row.value for row in rows}
