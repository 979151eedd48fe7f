"""Preparing a store for Kazbill and checking it: `kazbill store init` and `kazbill store check`.

Both take the store and the design documents as arguments. `initialise` is idempotent: a second
run finds every database present and every design document unchanged, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bookkeeper.design_docs import SYSTEM_DATABASES, DesignDoc
from bookkeeper.domain.cluster_writes import is_decision_database
from bookkeeper.ports import DatabaseNotFound, DocumentStore, InvalidDocument, NotFound, ServerInfo, ViewQuery
from bookkeeper.services.cluster.store_conflicts import ConflictedDocument, find_conflicts

FAILURES_DB = "kazbill_failures"


@dataclass(frozen=True)
class DesignDocStatus:
    db: str
    design_id: str
    state: str  # installed, upgraded, unchanged (init); current, missing, outdated (check)


@dataclass
class StoreReport:
    server: ServerInfo | None = None
    created_databases: list[str] = field(default_factory=list)
    missing_databases: list[str] = field(default_factory=list)
    design_docs: list[DesignDocStatus] = field(default_factory=list)
    # check: documents a view's map threw on, so the view leaves them out (the failures the
    # embedded store records; CouchDB only logs them). Billing would not see them: not healthy.
    view_errors: int = 0
    view_error_samples: list[str] = field(default_factory=list)
    # check: documents with more than one live revision, each resolved by the rule as found
    conflicts: list[ConflictedDocument] = field(default_factory=list)
    # check: Kazbill's own databases kept in more than one copy on a cluster (created by an
    # older Kazbill): their decisions can race there (bookkeeper/domain/cluster_writes.py)
    shared_decision_databases: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for status in self.design_docs if status.state == state)

    @property
    def healthy(self) -> bool:
        return (
            not self.missing_databases
            and not self.view_errors
            and not any(status.state in ("missing", "outdated") for status in self.design_docs)
            and all(found.resolved for found in self.conflicts)
            and not self.shared_decision_databases
        )


def _databases_for(store: DocumentStore, design_docs: Sequence[DesignDoc]) -> list[str]:
    """Every existing database that at least one design document belongs in."""
    return _belonging(store.list_databases(), design_docs)


def _belonging(databases: Sequence[str], design_docs: Sequence[DesignDoc]) -> list[str]:
    return [db for db in databases if any(doc.belongs_in(db) for doc in design_docs)]


def install_design_docs(store: DocumentStore, db: str, design_docs: Sequence[DesignDoc]) -> list[DesignDocStatus]:
    """Install or upgrade the design documents that belong in `db`; used by `store init` and
    whenever Kazbill creates an account or monthly database."""
    statuses, wanted = [], []
    belonging = [design for design in design_docs if design.belongs_in(db)]
    installed = store.get_many(db, [design.design_id for design in belonging]) if belonging else {}  # one request
    for design in belonging:
        current = installed.get(design.design_id)
        if current is not None and design.installed_digest(current) == design.digest:
            statuses.append(DesignDocStatus(db, design.design_id, "unchanged"))
            continue
        wanted.append(
            (design, {**design.body, **({"_rev": current["_rev"]} if current is not None else {})}, current is not None)
        )
    # Written together (one request for a new database's three); a row's conflict means another
    # Kazbill node installed it at the same moment, and what it wrote is the same file.
    results = store.bulk_put(db, [body for _, body, _ in wanted]) if wanted else []
    for (design, _, upgrade), result in zip(wanted, results, strict=True):
        if result.ok:
            statuses.append(DesignDocStatus(db, design.design_id, "upgraded" if upgrade else "installed"))
        elif result.error == "conflict":
            statuses.append(DesignDocStatus(db, design.design_id, "unchanged"))
        else:
            raise InvalidDocument(db, design.design_id, f"{result.error}: {result.reason}")
    return statuses


def initialise(store: DocumentStore, design_docs: Sequence[DesignDoc]) -> StoreReport:
    report = StoreReport(server=store.server_info())
    for db in SYSTEM_DATABASES:
        if store.ensure_database(db):
            report.created_databases.append(db)
    for db in _databases_for(store, design_docs):
        report.design_docs += install_design_docs(store, db, design_docs)
    return report


def check(store: DocumentStore, design_docs: Sequence[DesignDoc]) -> StoreReport:
    report = StoreReport(server=store.server_info())
    report.missing_databases = [db for db in SYSTEM_DATABASES if not store.database_exists(db)]
    databases = store.list_databases()
    with_design_docs = _belonging(databases, design_docs)
    for db in with_design_docs:
        for design in design_docs:
            if not design.belongs_in(db):
                continue
            try:
                installed = design.installed_digest(store.get(db, design.design_id))
            except NotFound:
                state = "missing"
            else:
                state = "current" if installed == design.digest else "outdated"
            report.design_docs.append(DesignDocStatus(db, design.design_id, state))
    report.view_errors, report.view_error_samples = _view_errors(store)
    report.conflicts = find_conflicts(store, with_design_docs, resolve=True)
    report.shared_decision_databases = [
        db for db in databases if is_decision_database(db) and (store.database_info(db).copies or 1) > 1
    ]
    return report


VIEW_ERROR_SAMPLES = 20


def _view_errors(store: DocumentStore) -> tuple[int, list[str]]:
    """How many map errors kazbill_failures holds, and the first few, each naming the view and
    the document it left out."""
    by_view = ViewQuery(
        start_key=["view"], end_key=["view", {}], reduce=False, include_docs=True, limit=VIEW_ERROR_SAMPLES
    )
    try:
        count = store.query_view(
            FAILURES_DB,
            "kazbill_failures",
            "by_source",
            ViewQuery(start_key=["view"], end_key=["view", {}], reduce=True),
        ).rows
        samples = store.query_view(FAILURES_DB, "kazbill_failures", "by_source", by_view).rows
    except (DatabaseNotFound, NotFound):
        return 0, []  # no failures database (a store not initialised): reported as missing already
    return (count[0].value if count else 0), [
        row.doc.get("reason", row.id) for row in samples if row.doc and row.id is not None
    ]
