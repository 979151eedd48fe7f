"""The nodes of a Kazbill cluster, as leases in the store (database `kazbill_nodes`).

Each node renews its lease every third of `lease_s`; a node whose lease has run out is gone, and
its accounts belong to the others (bookkeeper/domain/ownership.py). Leases are read with the
machine's real clock, never a simulated billing clock: they measure whether a process is alive.
Nodes' clocks must agree to well under a lease (NTP does); a node that cannot renew (the store
away) stops owning anything once its lease runs out, and the others take its accounts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bookkeeper.domain.ownership import owner_of
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, NotFound, ViewQuery

NODES_DB = "kazbill_nodes"


class NotLive(Exception):
    """This node's own lease has run out: the others own its accounts until it renews."""


@dataclass
class Membership:
    store: DocumentStore
    node: str
    lease_s: float = 15.0
    wall: Callable[[], float] = time.time  # seconds; the real clock, see above
    _rev: str | None = field(default=None, repr=False)
    _db_ready: bool = field(default=False, repr=False)

    def renew(self) -> None:
        """Writes this node's lease until now + lease_s."""
        now_ms = int(self.wall() * 1000)
        doc = {
            "_id": self.node,
            "pvt_type": "kazbill_node",
            "node": self.node,
            "renewed_at_ms": now_ms,
            "expires_at_ms": now_ms + int(self.lease_s * 1000),
        }
        if not self._db_ready:
            self.store.ensure_database(NODES_DB)
            self._db_ready = True
        for _ in range(3):
            try:
                if self._rev is None:
                    self._rev = self.store.get(NODES_DB, self.node)["_rev"]
            except NotFound:
                pass
            try:
                self._rev = self.store.put(NODES_DB, {**doc, **({"_rev": self._rev} if self._rev else {})}).rev
                return
            except Conflict:
                self._rev = None  # a previous run of this node left its lease: take it over
        raise Conflict(NODES_DB, self.node)

    def leave(self) -> None:
        """Gives the lease up at once (a clean stop): the others need not wait for it to run out."""
        now_ms = int(self.wall() * 1000)
        try:
            current = self.store.get(NODES_DB, self.node)
            self.store.put(NODES_DB, {**current, "expires_at_ms": now_ms, "left_at_ms": now_ms})
        except (NotFound, Conflict, DatabaseNotFound):
            pass

    def live(self) -> tuple[str, ...]:
        """The nodes whose lease has not run out, sorted."""
        now_ms = int(self.wall() * 1000)
        try:
            rows = self.store.all_docs(NODES_DB, ViewQuery(include_docs=True)).rows
        except DatabaseNotFound:
            return ()
        return tuple(
            sorted(
                row.id
                for row in rows
                if row.id is not None
                and row.doc
                and row.doc.get("pvt_type") == "kazbill_node"
                and isinstance(row.doc.get("expires_at_ms"), int)
                and row.doc["expires_at_ms"] > now_ms
            )
        )


@dataclass
class Ownership:
    """This node's view of who owns what, read again at most every `refresh_s` seconds."""

    membership: Membership
    refresh_s: float = 1.0
    monotonic: Callable[[], float] = time.monotonic
    _live: tuple[str, ...] = ()
    _read_at: float | None = None

    @property
    def node(self) -> str:
        return self.membership.node

    def live(self, *, fresh: bool = False) -> tuple[str, ...]:
        now = self.monotonic()
        if fresh or self._read_at is None or now - self._read_at >= self.refresh_s:
            self._live, self._read_at = self.membership.live(), now
        return self._live

    def mine(self, account_ids: Iterable[str]) -> list[str]:
        """The accounts this node owns now; NotLive while its own lease is not live (whoever
        asks keeps its work for later rather than dropping it)."""
        live = self.live()
        if self.node not in live:
            raise NotLive(f"the lease of {self.node} is not live")
        return [account_id for account_id in account_ids if owner_of(account_id, live) == self.node]
