"""A database created a moment ago, on a cluster: the node that created it answers at once, the
others learn of it a moment later and until then say it does not exist (and of one deleted, that
it still does). Waited for here, once for the store, so that the store's callers never see a
database come and go."""

from __future__ import annotations

import time
from typing import Any

from bookkeeper.adapters.couchdb_reads import CouchReads
from bookkeeper.adapters.document_rules import checked_database_name
from bookkeeper.ports import DatabaseNotFound, StoreError, StoreUnavailable

_NEW_DATABASE_CONFIRMATIONS, _NEW_DATABASE_WAIT_S = 4, 10.0
_DATABASE_OPS = frozenset({"head_database", "put_database", "delete_database"})
_MEMBERSHIP_TTL_S = 60.0


class NewDatabases(CouchReads):
    def __init__(self, url: str, username: str | None = None, password: str | None = None, timeout_s: float = 30.0):
        super().__init__(url, username, password, timeout_s)
        self._seen_everywhere: set[str] = set()  # databases every node was seen to know
        self._known_at: dict[str, float] = {}  # when this store created or found each database
        self._one_node = False
        self._nodes_checked_at: float | None = None

    def _known_now(self, db: str) -> None:
        self._known_at[db] = time.monotonic()

    def _forget(self, db: str) -> None:
        self._known_at.pop(db, None)
        self._seen_everywhere.discard(db)

    def _appears(self, db: str) -> bool:
        """After losing a creation race on a cluster: the winner's database shows through every
        node within moments, but the node a HEAD reaches may not know it yet (seen in CI: six
        threads creating the numbers database at once, one told 500 conflict and then 404)."""
        deadline = time.monotonic() + _NEW_DATABASE_WAIT_S
        while not self.database_exists(db):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _await_everywhere(self, db: str, *, present: bool = True) -> None:
        """A cluster's other nodes learn of a new database a moment after the one that created
        it answers: until then they say it does not exist. Several answers in a row that it
        exists (the balancer spreads them over the nodes) before anyone writes to it. With
        `present=False`, the same for a database deleted a moment ago, which the other nodes
        still say exists until they hear of it."""
        if self._single_node():
            return
        in_a_row, deadline = 0, time.monotonic() + _NEW_DATABASE_WAIT_S
        while in_a_row < _NEW_DATABASE_CONFIRMATIONS and time.monotonic() < deadline:
            try:
                settled = self.database_exists(db) == present
            except StoreUnavailable as error:
                if error.http_status != 500:
                    raise
                # A node part-way through the change (seen in CI on the 3-node cluster: a HEAD
                # right after a deletion answered 500 with no reason): not settled yet.
                settled = False
            in_a_row = in_a_row + 1 if settled else 0
            if in_a_row == 0:
                time.sleep(0.05)

    def _call_status(self, op: str, **params: Any) -> tuple[Any, int]:
        """Every request answered "no such database" by a cluster node that has not learnt yet
        of a database created a moment ago (by this store, or by another process: a HEAD through
        another node says it exists) is sent again until every node knows it. Seen in CI: four
        HEADs in a row answered "exists" through the balancer while six threads raced, and the
        next read still reached a node that did not know. A 404 changed nothing, so sending again
        is safe for writes too."""
        deadline = time.monotonic() + _NEW_DATABASE_WAIT_S
        while True:
            try:
                return super()._call_status(op, **params)
            except DatabaseNotFound as missing:
                if op in _DATABASE_OPS or params.get("kind") == "database" or time.monotonic() >= deadline:
                    raise
                if not self._not_yet_everywhere(missing.db):
                    raise
                time.sleep(0.05)

    def _not_yet_everywhere(self, db: str) -> bool:
        if self._single_node():
            return False
        known_at = self._known_at.get(db)
        if known_at is not None and time.monotonic() - known_at < _NEW_DATABASE_WAIT_S:
            return True  # created or found here moments ago: some node has not heard yet
        if self.database_exists(db):  # another node knows it
            self._known_now(db)
            return True
        return False

    def _single_node(self) -> bool:
        """One node for sure: `_membership` lists exactly one, or the server is pouchdb-server
        (which has none). In doubt (a proxy that hides `_membership`, an error) the new database
        is waited for as on a cluster. Asked once per minute, so a node joining is noticed."""
        if self._nodes_checked_at is None or time.monotonic() - self._nodes_checked_at > _MEMBERSHIP_TTL_S:
            try:
                membership = self._send("GET", "/_membership")
                nodes = membership.get("cluster_nodes") if isinstance(membership, dict) else None
                self._one_node = isinstance(nodes, list) and len(nodes) == 1
            except StoreError:
                try:
                    self._one_node = self._vendor_name() != "couchdb"
                except StoreError:
                    self._one_node = False
            self._nodes_checked_at = time.monotonic()
        return self._one_node

    def database_exists(self, db: str) -> bool:
        try:
            self._call("head_database", db=checked_database_name(db))
        except DatabaseNotFound:
            return False
        return True
