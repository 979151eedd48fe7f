"""Settling a write a CouchDB cluster answered `202 Accepted` (bookkeeper/domain/cluster_writes.py).

A 202 says fewer copies than the quorum took the write: perhaps a node was slow, perhaps another
writer reached the quorum with its own revision of the same parent. The writer reads the
document's leaves and lets the rule decide: it stands, or it lost and its revision is withdrawn
(deleted, so that the winner is the only live leaf and no conflict is left behind), or it was a
new document someone had written already. A lost or already-there write raises Conflict, which
is what every caller already takes to mean "someone else's write stands": the callers need not
know they run on a cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from bookkeeper.adapters.couchdb_http import DESIGN
from bookkeeper.domain.cluster_writes import Leaf, judge_accepted_write, nothing_stands
from bookkeeper.ports import Conflict, StoreError, StoreUnavailable

log = logging.getLogger(__name__)


# How long a writer waits for its accepted revision to show in a read before it gives up and
# says the store is unavailable: the copy that took it hands it on within moments.
_UNSEEN_PAUSES_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


def leaves_from_open_revs(answer: Any) -> list[Leaf]:
    """`GET /db/id?open_revs=all&revs=true` answers a list of {"ok": doc} (and {"missing": rev});
    each doc's `_revisions` names the revisions it was built on."""
    found = []
    for row in answer if isinstance(answer, list) else []:
        doc = row.get("ok") if isinstance(row, dict) else None
        if isinstance(doc, dict) and isinstance(doc.get("_rev"), str):
            found.append(Leaf(doc["_rev"], bool(doc.get("_deleted")), _ancestors(doc.get("_revisions"))))
    return found


def live_leaf_documents(answer: Any) -> list[dict[str, Any]]:
    """The live leaves' documents of an open_revs answer, without the `_revisions` asked for."""
    return [
        {key: value for key, value in row["ok"].items() if key != "_revisions"}
        for row in (answer if isinstance(answer, list) else [])
        if isinstance(row, dict)
        and isinstance(row.get("ok"), dict)
        and isinstance(row["ok"].get("_rev"), str)
        and not row["ok"].get("_deleted")
    ]


def _ancestors(revisions: Any) -> frozenset[str]:
    """{"start": 3, "ids": ["c", "b", "a"]} -> {"2-b", "1-a"}: the leaf itself left out."""
    if not isinstance(revisions, dict) or not isinstance(revisions.get("start"), int):
        return frozenset()
    ids = [rev_id for rev_id in revisions.get("ids") or () if isinstance(rev_id, str)]
    return frozenset(f"{revisions['start'] - depth}-{rev_id}" for depth, rev_id in enumerate(ids) if depth)


def document_path(db: str, doc_id: str) -> str:
    """`/db/id`, a design document's slash kept: CouchDB answers a GET of `_design%2Fname` with a
    301 to `_design/name` (seen on 3.4.3), which the kept-alive wire hands back as it is."""
    prefix = DESIGN if doc_id.startswith(DESIGN) else ""
    return f"/{quote(db, safe='')}/{prefix}{quote(doc_id.removeprefix(prefix), safe='')}"


def open_revs_path(db: str, doc_id: str) -> str:
    return f"{document_path(db, doc_id)}?open_revs=all&latest=true&revs=true"


def settle_accepted_write(
    db: str,
    doc_id: str,
    ours: str,
    *,
    created: bool,
    location: str,
    read_leaves: Callable[[str, str], list[Leaf]],
    withdraw: Callable[[str, str, str], None],
) -> Literal["stands", "write_again"]:
    """ "stands" when the accepted write stands; "write_again" when it lost and withdrew, and so
    did every other writer (nothing stands: the caller writes it again, as a new document);
    Conflict (after withdrawing it) when another writer's revision stands."""
    for pause_s in (0.0, *_UNSEEN_PAUSES_S):
        time.sleep(pause_s)
        leaves = read_leaves(db, doc_id)
        verdict = judge_accepted_write(ours, leaves, created=created)
        if verdict != "unseen":
            break
    if verdict == "unseen":
        raise StoreUnavailable(
            location,
            f"a write to {doc_id!r} in {db!r} was accepted by too few copies and has not "
            f"shown since: whether it stands is not known yet",
        )
    if verdict == "won":
        return "stands"
    if verdict == "lost" and not next(leaf for leaf in leaves if leaf.rev == ours).deleted:
        try:
            withdraw(db, doc_id, ours)
        except StoreError as error:  # store check finds and resolves what is left
            log.warning(
                "could not withdraw a lost revision",
                extra={"db": db, "doc_id": doc_id, "rev": ours, "reason": str(error)},
            )
            raise Conflict(db, doc_id) from None
        log.info(
            "a write answered 202 gave way to another writer's revision",
            extra={"db": db, "doc_id": doc_id, "rev": ours},
        )
        if nothing_stands(read_leaves(db, doc_id)):
            return "write_again"
    raise Conflict(db, doc_id)
