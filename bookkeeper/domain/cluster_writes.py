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
  another live leaf beside its own means another writer was accepted too, perhaps by the
  quorum: the writer gives way, withdraws its revision (deletes its own leaf, leaving the other
  the only live one) and is told it lost. Should every writer have given way (each answered 202,
  each seeing the other), nothing stands: the writer that sees that writes again, and that
  write is judged in turn. Its own leaf alone, for an update,
  stands (the copies that did not answer will be handed it). Its own leaf alone for a *new*
  document is not a first write: an identical body written a moment earlier by someone else
  has the identical revision, and nothing tells the two apart, so the caller is told the
  document was there already (put_once answers False; the document stands either way).
  A read that finds its revision nowhere, neither a leaf nor built on, came from copies not yet
  handed it (seen on a 3-node cluster: a rival create answered 201 by the two copies that had
  not seen ours): it proves nothing, and the writer reads again until its revision shows.
- **A conflict found later is resolved by one rule:** the revision CouchDB shows (its winner:
  live before deleted, the longest history, then the greatest revision id) is kept, because it
  is what every reader and every view was shown; the other leaves are deleted.

Decisions that must be taken by exactly one writer (document numbers, leases, claims, the
markers that something was sent) are kept in Kazbill's own databases, which Kazbill creates
with a single copy (q=1, n=1): one copy orders every write to it, as a single node does, so a
race there is always answered 201 for one writer and 409 for the other. This module is pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

DECISION_DATABASE_PREFIX = "kazbill_"

Verdict = Literal["won", "lost", "already_there", "unseen"]


def is_decision_database(db: str) -> bool:
    """Kazbill's own databases: created with one copy on a cluster, so their writes are ordered."""
    return db.startswith(DECISION_DATABASE_PREFIX)


@dataclass(frozen=True)
class Leaf:
    rev: str
    deleted: bool = False
    ancestors: frozenset[str] = frozenset()  # the revisions this leaf was built on, when read with them

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


def judge_accepted_write(ours: str, leaves: Iterable[Leaf], *, created: bool) -> Verdict:
    """The outcome of a write answered 202, from the document's leaves read right after it."""
    leaves = list(leaves)
    if ours not in {leaf.rev for leaf in leaves}:
        if any(ours in leaf.ancestors for leaf in leaves):
            return "won"  # no longer a leaf: a later write was built on it, so it was the one shown
        # Nowhere: the copies that answered the read have not been handed it yet (a 202 may
        # mean one copy took it). Judging now would call a write won that will surface as a
        # conflict beside someone else's: the writer reads again.
        return "unseen"
    if any(not leaf.deleted and leaf.rev != ours for leaf in leaves):
        return "lost"  # another writer's revision stands beside ours: it may have had the quorum
    return "already_there" if created else "won"


def nothing_stands(leaves: Iterable[Leaf]) -> bool:
    """After a writer that lost withdrew: true when every writer gave way (two writers answered
    202 each, each seeing the other). The document would be gone; the writer writes it again,
    as a new revision, and that write is judged like any other."""
    return all(leaf.deleted for leaf in leaves)


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
