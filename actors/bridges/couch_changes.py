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
on the order of the changes in a page. A document that cannot be read or billed by is recorded
in kazbill_failures and passed (feed_pages): it never holds the checkpoint back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from actors.bridges.feed_pages import (  # noqa: F401 - accounts_changed re-exported
    accounts_changed,
    read_page,
    record_rejections,
    sort_page,
)
from actors.messages import HandOffDone
from actors.system import require_done
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SYSTEM_DB, account_db, parse_db_name, to_gregorian_seconds
from bookkeeper.ports import Change, DatabaseNotFound, DocumentStore
from bookkeeper.services.operations.status import CHECKPOINT_ID, UPDATES_CHECKPOINT_ID, checkpoint_of, followed

log = logging.getLogger("kazbill.bridge.couchdb")

HandOff = Callable[[Sequence[str]], HandOffDone]
HandOffCalls = Callable[[Sequence[FinishedCall]], HandOffDone]


def calls_recorded(store: DocumentStore, db: str, changes: Iterable[Change], now_gregorian: int) -> list[FinishedCall]:
    """The billable calls among a page of a monthly database's changes. A CDR that cannot be
    billed as it is gets a failure record naming its field (once: the record's id is the CDR's)."""
    page = sort_page(db, changes, calls_too=True)
    record_rejections(store, db, page.rejected, now_gregorian)
    return page.calls


def known_accounts(store: DocumentStore, account_ids: Sequence[str]) -> list[str]:
    """Those of the accounts whose account document exists, in `accounts` or in the account's own
    database. Kazoo writes a new account's services document before its account document (the
    order entrypoints/simulation/cluster.py plays): until the account document is there, a change
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


@dataclass
class ChangesFollower:
    store: DocumentStore
    hand_off: HandOff
    page_size: int = 500
    poll_s: float = 1.0
    hand_off_calls: HandOffCalls | None = None  # None: CDRs are left to another follower
    now_gregorian: Callable[[], int] = lambda: to_gregorian_seconds(int(time.time()))
    node: str | None = None  # in a cluster each node follows every change with checkpoints of its own
    stats: dict[str, int] = field(
        default_factory=lambda: {"changes": 0, "accounts": 0, "databases": 0, "calls": 0, "rejected": 0}
    )
    look_again_s: float = 2.0  # after how long a database listed with nothing new is read once more
    monotonic: Callable[[], float] = time.monotonic
    # Asked between databases: a bridge told to stop (its service gone) leaves the rest of a long
    # pass to the next run, which reads them again from their checkpoints.
    stopping: Callable[[], bool] = lambda: False
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
            if self.stopping():
                return handed  # the listing's checkpoint not moved: the databases left are listed again
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
            page, unreadable = read_page(self.store, db, since, self.page_size)
            sorted_page = sort_page(db, page.changes, calls_too=self.hand_off_calls is not None)
            # Recorded before the checkpoint moves past them (a crash between records them again: once).
            record_rejections(self.store, db, unreadable + sorted_page.rejected, self.now_gregorian())
            self.stats["rejected"] += len(unreadable) + len(sorted_page.rejected)
            accounts = sorted_page.accounts
            if accounts and parse_db_name(db).kind == "services":
                accounts = known_accounts(self.store, accounts)
            if accounts:
                require_done(self.hand_off(accounts), db)
                handed += len(accounts)
            if sorted_page.calls and self.hand_off_calls is not None:
                require_done(self.hand_off_calls(sorted_page.calls), db)
                self.stats["calls"] += len(sorted_page.calls)
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
