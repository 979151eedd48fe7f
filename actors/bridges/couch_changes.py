"""The CouchDB bridge: follows the server's database updates and each relevant database's
changes feed, and hands the accounts whose billing documents changed to the shards, and the
calls of the CDRs Kazoo wrote into monthly databases to be rated (the fallback for call events
the AMQP bridge never saw: both sources charge a call under the same id, so once).

Checkpoints live in the store as `_local` documents (never replicated, never in a feed): one per
followed database with its last handed-off sequence, and one in kazbill_system for the server's
database updates. A checkpoint advances only after the shards answered for everything before
it, so a crash replays some changes (harmless: billing is idempotent) and loses none. Sequences
are opaque strings: never compared or incremented, only passed back.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from actors.bridges.kazoo_messages import RELEVANT_DOC_TYPES
from actors.messages import HandOffDone
from actors.system import require_done
from bookkeeper.domain.calls import CallRecordError, FinishedCall, call_from_cdr
from bookkeeper.domain.kazoo_names import SYSTEM_DB, is_account_id, parse_db_name, to_gregorian_seconds
from bookkeeper.ports import Change, DocumentStore
from bookkeeper.services.failures import record_failure
from bookkeeper.services.status import CHECKPOINT_ID, UPDATES_CHECKPOINT_ID, checkpoint_of, followed

log = logging.getLogger("kazbill.bridge.couchdb")

HandOff = Callable[[Sequence[str]], HandOffDone]
HandOffCalls = Callable[[Sequence[FinishedCall]], HandOffDone]


def calls_recorded(store: DocumentStore, db: str, changes: Iterable[Change], now_gregorian: int) -> list[FinishedCall]:
    """The billable calls among a page of a monthly database's changes. A CDR that cannot be
    billed as it is gets a failure record naming its field (once: the record's id is the CDR's)."""
    if parse_db_name(db).kind != "account-month":
        return []
    calls: list[FinishedCall] = []
    for change in changes:
        doc = change.doc or {}
        if change.deleted or doc.get("pvt_type") != "cdr":
            continue
        try:
            call = call_from_cdr(doc)
        except CallRecordError as error:
            record_failure(store, source="cdr", reason_code="bad_cdr", field=error.field, reason=error.reason,
                           payload={"database": db, "id": change.id}, account_id=parse_db_name(db).account_id,
                           now_gregorian=now_gregorian)
            continue
        if call is not None and call.offnet:
            calls.append(call)
    return calls


def accounts_changed(db: str, changes: Iterable[Change]) -> list[str]:
    """The accounts a page of changes gives a reason to look at again. Kazbill's own writes
    (ledger entries, its state documents) and documents that do not affect billing are left out,
    so that billing does not chase its own tail."""
    name = parse_db_name(db)
    found: list[str] = []
    for change in changes:
        if change.id.startswith("_design/") or change.id.startswith("kazbill_"):
            continue
        doc = change.doc or {}
        if name.kind == "accounts":
            if doc.get("pvt_type", "account") == "account" and is_account_id(change.id):
                found.append(change.id)
        elif name.kind in ("account", "account-month") and name.account_id:
            if change.deleted or doc.get("pvt_type") in RELEVANT_DOC_TYPES or _foreign_ledger(doc):
                found.append(name.account_id)
    return list(dict.fromkeys(found))


def _foreign_ledger(doc: dict) -> bool:
    """A ledger entry Kazoo (or a person) wrote moves the balance; Kazbill's own do not need a look."""
    return doc.get("pvt_type") == "ledger" and "kazbill" not in (doc.get("metadata") or {})


@dataclass
class ChangesFollower:
    store: DocumentStore
    hand_off: HandOff
    page_size: int = 500
    poll_s: float = 1.0
    hand_off_calls: HandOffCalls | None = None  # None: CDRs are left to another follower
    now_gregorian: Callable[[], int] = lambda: to_gregorian_seconds(int(time.time()))
    node: str | None = None  # in a cluster each node follows every change with checkpoints of its own
    stats: dict[str, int] = field(default_factory=lambda: {"changes": 0, "accounts": 0, "databases": 0,
                                                           "calls": 0})

    def step(self) -> int:
        """One pass: every database that changed since the last pass, each to its end. Returns the
        number of accounts handed off."""
        self.store.ensure_database(SYSTEM_DB)
        since = (self.store.get_local(SYSTEM_DB, self._checkpoint(UPDATES_CHECKPOINT_ID)) or {}).get("seq", "0")
        page = self.store.db_updates(since, timeout_s=self.poll_s)
        dbs = sorted({update.db for update in page.updates if update.kind != "deleted" and followed(update.db)})
        handed = 0
        for db in dbs:
            handed += self.follow(db)
        self.store.put_local(SYSTEM_DB, self._checkpoint(UPDATES_CHECKPOINT_ID), {"seq": page.last_seq})
        return handed

    def follow(self, db: str) -> int:
        handed = 0
        if not self.store.database_exists(db):
            return 0  # deleted since it was announced
        since = (self.store.get_local(db, self._checkpoint(CHECKPOINT_ID)) or {}).get("seq", "0")
        while True:
            page = self.store.changes(db, since, limit=self.page_size, include_docs=True)
            accounts = accounts_changed(db, page.changes)
            if accounts:
                require_done(self.hand_off(accounts), db)
                handed += len(accounts)
            calls = calls_recorded(self.store, db, page.changes, self.now_gregorian()) if self.hand_off_calls else []
            if calls:
                require_done(self.hand_off_calls(calls), db)
                self.stats["calls"] += len(calls)
            self.stats["changes"] += len(page.changes)
            self.store.put_local(db, self._checkpoint(CHECKPOINT_ID), {"seq": page.last_seq})
            since = page.last_seq
            if len(page.changes) < self.page_size:
                break
        self.stats["accounts"] += handed
        self.stats["databases"] += 1
        return handed

    def _checkpoint(self, name: str) -> str:
        return checkpoint_of(self.node, name)
