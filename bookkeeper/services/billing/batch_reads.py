"""What the passes of one batch read alike, read once for the batch.

Twenty-five accounts of one reseller, billed in one batch, each read the same reseller's account
document, its onbill, the master's onbill and the same plans: four requests per account on
CouchDB for answers that are the same for all of them. A batch is one moment (a change that
arrives during it is billed by the next one), so these are read once per batch: the batch's
own account documents, their ancestors' and the services documents of all of them in three
requests up front, and any other account's documents (in `accounts`, `services` or another
account's own database) the first time a pass asks. An account's own database and its months are never shared: the pass
reading them is the only one writing them (PassReads keeps those for the pass alone). A write
by any pass of the batch forgets what it touched here, so the next read fetches it again.

Shared between the batch's passes, which may run at once: guarded by a lock. What it hands out
is read-only to its one client, PassReads, which copies before returning anything.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, parse_db_name
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound

_ABSENT = None  # a document the batch found missing


def shared_by_the_batch(db: str, own_account_id: str | None) -> bool:
    """Whether a pass for `own_account_id` reads `db` through the batch: `accounts`, `services`
    and any other account's own database (its settings and plans), never a monthly one."""
    parsed = parse_db_name(db)
    if parsed.kind in ("accounts", "services"):
        return True
    return parsed.kind == "account" and parsed.account_id != own_account_id


class BatchReads:
    def __init__(self, store: DocumentStore):
        self.backing = store
        self._docs: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    def prefetch_accounts(self, account_ids: Sequence[str]) -> None:
        """The batch's account documents, then the services documents of them and of every
        ancestor in their trees, and the ancestors' account documents: three requests."""
        if not account_ids:
            return
        with contextlib.suppress(DatabaseNotFound):
            accounts = self.get_many(ACCOUNTS_DB, account_ids)
            ancestors = {ancestor for doc in accounts.values() for ancestor in doc.get("pvt_tree") or []}
            self.get_many(ACCOUNTS_DB, sorted(ancestors))
            with contextlib.suppress(DatabaseNotFound):  # a cluster without Kazoo's services database
                self.get_many(SERVICES_DB, [*account_ids, *sorted(ancestors)])

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        doc = self.get_many(db, [doc_id]).get(doc_id)
        if doc is None:
            raise NotFound(db, doc_id)
        return doc

    def get_many(self, db: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(doc_ids))
        with self._lock:
            kept = {doc_id: self._docs[(db, doc_id)] for doc_id in wanted if (db, doc_id) in self._docs}
        unknown = [doc_id for doc_id in wanted if doc_id not in kept]
        if unknown:
            found = self.backing.get_many(db, unknown)  # a missing database raises, and is not kept
            fetched = {doc_id: found.get(doc_id, _ABSENT) for doc_id in unknown}
            with self._lock:
                self._docs.update({(db, doc_id): doc for doc_id, doc in fetched.items()})
            kept.update(fetched)
        return {doc_id: doc for doc_id in wanted if (doc := kept[doc_id]) is not _ABSENT}

    def forget(self, db: str, doc_ids: Iterable[str]) -> None:
        with self._lock:
            for doc_id in doc_ids:
                self._docs.pop((db, doc_id), None)
