"""The CouchDB bridge: follows the server's database updates and each relevant database's
changes feed, and hands the accounts whose billing documents changed to the shards, and the
calls of the CDRs Kazoo wrote into monthly databases to be rated (the fallback for call events
the AMQP bridge never saw: both sources charge a call under the same id, so once).

Checkpoints live in the store as `_local` documents (never replicated, never in a feed): one per
followed database with its last handed-off sequence, and one in kazbill_system for the server's
database updates. A checkpoint advances only after the shards answered for everything before
it, so a crash replays some changes (harmless: billing is idempotent) and loses none. Sequences
are opaque strings: never ordered or incremented, only passed back (or told equal). A feed comes
in no global order (a sharded CouchDB orders each shard's changes only), so nothing here depends
on the order of the changes in a page.
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
from bookkeeper.domain.kazoo_names import (
    ACCOUNTS_DB, SYSTEM_DB, account_db, is_account_id, parse_db_name, to_gregorian_seconds,
)
from bookkeeper.ports import Change, DatabaseNotFound, DocumentStore
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
        elif name.kind == "services":
            # The account's services document (its id is the account's): a plan assigned or
            # removed in Kazoo (kz_services.erl:1164-1184) is billed now, not at the next crawl.
            if is_account_id(change.id) and (change.deleted or doc.get("pvt_type", "service") == "service"):
                found.append(change.id)
        elif name.kind in ("account", "account-month") and name.account_id:
            if change.deleted or doc.get("pvt_type") in RELEVANT_DOC_TYPES or _foreign_ledger(doc):
                found.append(name.account_id)
    return list(dict.fromkeys(found))


def known_accounts(store: DocumentStore, account_ids: Sequence[str]) -> list[str]:
    """Those of the accounts whose account document exists, in `accounts` or in the account's own
    database. Kazoo writes a new account's services document before its account document (the
    order bookkeeper/simulation/cluster.py plays): until the account document is there, a change
    of its services document is no reason to bill (billing would refuse an unknown account), and
    the account document's own change bills the account once it comes."""
    try:
        known = set(store.get_many(ACCOUNTS_DB, list(account_ids)))
    except DatabaseNotFound:
        known = set()
    for account_id in set(account_ids) - known:
        try:
            if store.get_many(account_db(account_id), [account_id]):
                known.add(account_id)
        except DatabaseNotFound:
            continue
    return [account_id for account_id in account_ids if account_id in known]


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
    look_again_s: float = 2.0  # after how long a database listed with nothing new is read once more
    monotonic: Callable[[], float] = time.monotonic
    _again: dict[str, float] = field(default_factory=dict, repr=False)  # database -> when to look again

    def step(self) -> int:
        """One pass: every database that changed since the last pass, each to its end, and those due
        a second look (see _look_again). Returns the number of accounts handed off."""
        self.store.ensure_database(SYSTEM_DB)
        since = (self.store.get_local(SYSTEM_DB, self._checkpoint(UPDATES_CHECKPOINT_ID)) or {}).get("seq", "0")
        page = self.store.db_updates(since, timeout_s=self.poll_s)
        listed = {update.db for update in page.updates if update.kind != "deleted" and followed(update.db)}
        now = self.monotonic()
        due = {db for db, at in self._again.items() if at <= now}
        handed = 0
        for db in sorted(listed | due):
            changes_before = self.stats["changes"]
            handed += self.follow(db)
            self._look_again(db, listed=db in listed, found=self.stats["changes"] > changes_before, now=now)
        self.store.put_local(SYSTEM_DB, self._checkpoint(UPDATES_CHECKPOINT_ID), {"seq": page.last_seq})
        return handed

    def _look_again(self, db: str, *, listed: bool, found: bool, now: float) -> None:
        """A database listed with nothing new in its feed is read once more a little later. On a
        CouchDB cluster it can be listed before the copy its feed is read from has the write (a
        write is answered once a quorum of copies has it, and the listing comes from whichever
        node published first), or before the node asked knows a database just created; the
        listing the late copy would publish in turn is not guaranteed to come (CouchDB's
        `_db_updates` is best effort). Once is enough: the lag is milliseconds. On one server the
        second look finds nothing and costs three reads (the database, its checkpoint, its feed)."""
        self._again.pop(db, None)
        if listed and not found:
            self._again[db] = now + self.look_again_s

    def follow(self, db: str) -> int:
        handed = 0
        if not self.store.database_exists(db):
            return 0  # deleted since it was announced (or, on a cluster, not yet known where asked)
        since = (self.store.get_local(db, self._checkpoint(CHECKPOINT_ID)) or {}).get("seq", "0")
        while True:
            page = self.store.changes(db, since, limit=self.page_size, include_docs=True)
            accounts = accounts_changed(db, page.changes)
            if accounts and parse_db_name(db).kind == "services":
                accounts = known_accounts(self.store, accounts)
            if accounts:
                require_done(self.hand_off(accounts), db)
                handed += len(accounts)
            calls = calls_recorded(self.store, db, page.changes, self.now_gregorian()) if self.hand_off_calls else []
            if calls:
                require_done(self.hand_off_calls(calls), db)
                self.stats["calls"] += len(calls)
            self.stats["changes"] += len(page.changes)
            if page.last_seq != since:  # equal: nothing to record (sequences are only ever compared equal)
                self.store.put_local(db, self._checkpoint(CHECKPOINT_ID), {"seq": page.last_seq})
            since = page.last_seq
            if len(page.changes) < self.page_size:
                break
        self.stats["accounts"] += handed
        self.stats["databases"] += 1
        return handed

    def _checkpoint(self, name: str) -> str:
        return checkpoint_of(self.node, name)
