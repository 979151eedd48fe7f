"""Conflicted documents: found, listed with their revisions, and resolved by the one rule.

A document whose copies hold more than one live revision is what a cluster leaves when two
writers were both accepted and one of them died before withdrawing (or when a database was
replicated into from elsewhere). The `kazbill_conflicts` view of every database Kazbill reads
or writes lists them; `store check` and the audit call `find_conflicts`, which keeps the revision
CouchDB shows (what every reader and every view already saw, so no figure moves) and deletes
the others (bookkeeper/domain/cluster_writes.py). A single server never has any.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bookkeeper.domain.cluster_writes import resolve_conflict
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, InvalidQuery, NotFound, StoreError, ViewQuery

DESIGN, VIEW = "kazbill_conflicts", "conflicts"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConflictedDocument:
    db: str
    doc_id: str
    revisions: tuple[str, ...]  # every live leaf found
    kept: str  # the one CouchDB shows, kept
    withdrawn: tuple[str, ...]  # deleted (resolve=True) or to delete
    resolved: bool

    @property
    def what_was_done(self) -> str:
        verb = "deleted" if self.resolved else "to delete"
        return f"kept {self.kept} (the revision every reader was shown), {verb} {', '.join(self.withdrawn)}"


def conflicted_ids(store: DocumentStore, db: str) -> list[str]:
    try:
        rows = store.query_view(db, DESIGN, VIEW, ViewQuery(reduce=False)).rows
    except (DatabaseNotFound, NotFound, InvalidQuery):
        return []  # no such database, or its design documents are not installed (check says so)
    return [row.id for row in rows if row.id is not None]


def find_conflicts(store: DocumentStore, dbs: Iterable[str], *, resolve: bool) -> list[ConflictedDocument]:
    return [found for db in dbs for found in find_conflicts_of(store, db, conflicted_ids(store, db), resolve=resolve)]


def find_conflicts_of(
    store: DocumentStore, db: str, doc_ids: Iterable[str], *, resolve: bool
) -> list[ConflictedDocument]:
    found = []
    for doc_id in doc_ids:
        leaves = store.leaves(db, doc_id)
        if sum(1 for leaf in leaves if not leaf.deleted) < 2:
            continue  # resolved since the view was read
        rule = resolve_conflict(leaves)
        done = resolve and _withdraw(store, db, doc_id, rule.withdrawn)
        revisions = tuple(sorted(leaf.rev for leaf in leaves if not leaf.deleted))
        found.append(ConflictedDocument(db, doc_id, revisions, rule.kept, rule.withdrawn, done))
        log.warning(
            "conflicted document",
            extra={"db": db, "doc_id": doc_id, "revisions": list(revisions), "kept": rule.kept, "resolved": done},
        )
    return found


def is_only_live_revision(store: DocumentStore, db: str, doc_id: str, shown_rev: str, *, resolve: bool) -> bool:
    """True when `shown_rev` (just read) is the document's only live revision. A writer that
    builds on a revision only after seeing it alone cannot start a second branch (two live
    leaves would each take a revision-checked write, both answered 201). Otherwise, with
    `resolve`, the rule is applied; without, the caller waits: a writer answered 202 is most
    likely withdrawing its revision this moment, and the rule applied beside it could delete
    the revision that writer is leaving standing, leaving none."""
    live = [leaf.rev for leaf in store.leaves(db, doc_id) if not leaf.deleted]
    if live in ([shown_rev], []):
        return True  # []: a copy that has not seen the write yet; the revision-checked write will say
    if resolve:
        find_conflicts_of(store, db, [doc_id], resolve=True)
    return False


def _withdraw(store: DocumentStore, db: str, doc_id: str, revisions: tuple[str, ...]) -> bool:
    done = True
    for rev in revisions:
        try:
            store.delete(db, doc_id, rev)
        except (Conflict, NotFound):
            pass  # someone withdrew it first
        except StoreError:
            done = False
    return done
