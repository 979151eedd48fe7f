"""What a write's answer means on a CouchDB cluster, and which revision stands when copies disagree.

On a cluster each document has n copies. A write is answered `201 Created` when a quorum of
copies (w = n/2 + 1) took it, and `202 Accepted` when fewer did: two writers racing one
revision, or one id, through different nodes can both be answered "ok", one 201 and one 202,
and the copies then hand each other both revisions, leaving a conflict (CouchDB's
fabric_doc_update: only `ok` replies count towards the quorum, a copy that refused with a
conflict does not). A quorum is a majority, so at most one writer of a given parent revision
(or of a new id) is answered 201. Hence the rule Kazbill writes by:

- **201 won.** No one else can have been told 201 for the same parent.
- **202 is not a win until the leaves say so.** The writer reads the document's leaf revisions:
  another live leaf beside its own means another writer was accepted too; the one CouchDB
  shows stands (in a decision database, the other's), and the writer that lost withdraws its
  revision (deletes its own leaf, leaving the other the only live one). Its own leaf alone, for an update,
  stands (the copies that did not answer will be handed it). Its own leaf alone for a *new*
  document is not a first write: an identical body written a moment earlier by someone else
  has the identical revision, and nothing tells the two apart, so the caller is told the
  document was there already (put_once answers False; the document stands either way).
- **A conflict found later is resolved by one rule:** the revision CouchDB shows (its winner:
  live before deleted, the longest history, then the greatest revision id) is kept, because it
  is what every reader and every view was shown; the other leaves are deleted.

Decisions that must be taken by exactly one writer (document numbers, leases, claims, the
markers that something was sent) are kept in Kazbill's own databases, which Kazbill creates
with a single copy (q=1, n=1): one copy orders every write to it, as a single node does, so a
race there is always answered 201 for one writer and 409 for the other. This module is pure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

DECISION_DATABASE_PREFIX = "kazbill_"

Verdict = Literal["won", "lost", "already_there"]


def is_decision_database(db: str) -> bool:
    """Kazbill's own databases: created with one copy on a cluster, so their writes are ordered."""
    return db.startswith(DECISION_DATABASE_PREFIX)


@dataclass(frozen=True)
class Leaf:
    rev: str
    deleted: bool = False

    @property
    def generation(self) -> int:
        return int(self.rev.split("-", 1)[0])

    @property
    def rev_id(self) -> str:
        return self.rev.split("-", 1)[1]


def couchdb_winner(leaves: Iterable[Leaf]) -> Leaf:
    """The revision CouchDB shows: a live leaf before a deleted one, then the highest generation,
    then the greatest revision id (couch_doc/couch_key_tree's ordering)."""
    ordered = sorted(leaves, key=lambda leaf: (not leaf.deleted, leaf.generation, leaf.rev_id))
    if not ordered:
        raise ValueError("a document has at least one leaf")
    return ordered[-1]


def judge_accepted_write(ours: str, leaves: Iterable[Leaf], *, created: bool, one_copy: bool) -> Verdict:
    """The outcome of a write answered 202, from the document's leaves read right after it.

    `one_copy`: the database is a decision database (one copy orders its writes), where a
    revision beside ours can only be one that was established elsewhere (a replication, a
    writer that reached the quorum): ours gives way to it. In a database kept in several
    copies, two writers can both be answered 202 and see each other: each giving way would
    leave no live revision at all, so the one CouchDB shows stands and the other gives way,
    which every writer that looks decides alike."""
    leaves = list(leaves)
    if ours not in {leaf.rev for leaf in leaves}:
        return "won"  # no longer a leaf: a later write was built on it, so it was the one shown
    live = [leaf for leaf in leaves if not leaf.deleted]
    if any(leaf.rev != ours for leaf in live):
        if one_copy or couchdb_winner(live).rev != ours:
            return "lost"
        return "won"
    return "already_there" if created else "won"


@dataclass(frozen=True)
class Resolution:
    kept: str
    withdrawn: tuple[str, ...]  # live leaves deleted so that `kept` is the only live one


def resolve_conflict(leaves: Iterable[Leaf]) -> Resolution:
    """Keep what CouchDB shows, delete the other live leaves."""
    leaves = list(leaves)
    kept = couchdb_winner(leaves)
    others = tuple(sorted(leaf.rev for leaf in leaves if not leaf.deleted and leaf.rev != kept.rev))
    return Resolution(kept.rev, others)
