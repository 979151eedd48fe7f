"""A logout's record in the system database, and its sweep. One document a logged-out token, its
id sorted by when the token expires (`revoked_until:<12-digit expiry>:<token id>`), so that a
worker catching up reads the logouts of tokens still alive (crossbar_api/revocations.py), and
the records of tokens long expired are one key range: swept after a logout, at most once an hour
a process, a week past their tokens' expiry (a token past it fails its signature check)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, StoreError, ViewQuery, put_making_database
from crossbar_api.auth import TokenClaims

log = logging.getLogger("kazbill.api")
# A revocation's id sorts by when its token expires, so a feed catching up reads the revocations
# of tokens that may still pass their signature check, not every logout there ever was.
REVOKED_PREFIX = "revoked_until:"
# Written until 6 December 2026 (session 52), one id per token: still read, so that a token
# logged out before an upgrade stays out until it expires.
LEGACY_PREFIX = "revoked_token:"
# Past its token's expiry, when a record may go. A week, not a day: the API's clock may be a
# demo's file, set back by days; a record swept too soon would let a logged-out token in again.
SWEEP_AFTER_S = 7 * 86_400
SWEEP_EVERY_S = 3_600.0  # a process sweeps at most this often (each logout would be a range read)
# Records a sweep deletes at most (of each id shape): it runs inside a logout's request, so the
# first one after an upgrade does not take a year of logouts at once; the next takes more.
SWEEP_AT_MOST = 500


def revocation_id(claims: TokenClaims) -> str:
    return f"{REVOKED_PREFIX}{sortable(claims.expires)}:{claims.token_id}"


def sortable(unix_seconds: float) -> str:
    """Whole seconds as twelve digits (until the year 33658), so that ids sort by time."""
    return f"{min(max(int(unix_seconds), 0), 10**12 - 1):012d}"


def parsed_id(doc_id: str) -> tuple[str, int | None] | None:
    """The token id a revocation's document id names, either way it was written, and the token's
    expiry when the id holds it; None for another document."""
    if doc_id.startswith(REVOKED_PREFIX):
        until, _, token_id = doc_id.removeprefix(REVOKED_PREFIX).partition(":")
        return (token_id, int(until)) if token_id and until.isdigit() else None
    if doc_id.startswith(LEGACY_PREFIX):
        token_id = doc_id.removeprefix(LEGACY_PREFIX)
        return (token_id, None) if token_id else None
    return None


def write_revocation(store: DocumentStore, claims: TokenClaims) -> None:
    """Kept with the moment the token would have expired anyway (`expires`): past it, the token's
    signature check refuses it and a worker forgets the revocation."""
    doc = {"_id": revocation_id(claims), "pvt_type": "kazbill_revoked_token", "expires": claims.expires}
    with contextlib.suppress(Conflict):  # logged out twice: it is revoked either way
        put_making_database(store, SYSTEM_DB, doc)


def read_revocation(store: DocumentStore, claims: TokenClaims) -> bool:
    """One read for both ids a revocation may have."""
    try:
        found = store.get_many(SYSTEM_DB, [revocation_id(claims), LEGACY_PREFIX + claims.token_id])
    except DatabaseNotFound:
        return False  # (made by the first logout or login throttle): nothing revoked yet
    return bool(found)


def expires_at(doc: Mapping[str, Any] | None) -> int:
    value = (doc or {}).get("expires")
    return value if isinstance(value, int) and not isinstance(value, bool) else 2**62  # unknown: kept


def sweep_revocations(store: DocumentStore, before: float) -> int:
    """Deletes the records of tokens that expired before `before` (Unix seconds), both id shapes,
    at most SWEEP_AT_MOST of each; how many went. A record another worker deleted first is no
    error. (Old-shape records written without an expiry are kept: their tokens are long gone.)"""
    try:
        rows = store.all_docs(
            SYSTEM_DB,
            ViewQuery(start_key=REVOKED_PREFIX, end_key=REVOKED_PREFIX + sortable(before), limit=SWEEP_AT_MOST),
        )
        legacy = store.all_docs(
            SYSTEM_DB,
            ViewQuery(
                start_key=LEGACY_PREFIX, end_key=LEGACY_PREFIX + "\ufff0", include_docs=True, limit=SWEEP_AT_MOST
            ),
        )
    except DatabaseNotFound:
        return 0
    gone = [*rows.rows, *(row for row in legacy.rows if expires_at(row.doc) < before)]
    if not gone:
        return 0
    results = store.bulk_put(SYSTEM_DB, [{"_id": row.id, "_rev": row.value["rev"], "_deleted": True} for row in gone])
    return sum(1 for result in results if result.ok)


class RevocationSweep:
    """Called after each logout; sweeps when this process has not for `every_s`. `wall`: the API's
    clock, by which tokens expire (a demo's may be a file's); the sweep goes by the earlier of it
    and the host's, so that a clock run ahead sweeps nothing early."""

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        *,
        every_s: float = SWEEP_EVERY_S,
        host_time: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.wall, self.every_s, self.host_time, self.monotonic = wall, every_s, host_time, monotonic
        self._last: float | None = None
        self._lock = threading.Lock()

    def after_logout(self, store: DocumentStore) -> int:
        with self._lock:
            now = self.monotonic()
            if self._last is not None and now - self._last < self.every_s:
                return 0
            self._last = now
        try:
            swept = sweep_revocations(store, min(self.wall(), self.host_time()) - SWEEP_AFTER_S)
        except StoreError as error:  # the logout itself is written: the next sweep takes these
            log.info("old logouts not swept: %s", error)
            return 0
        if swept:
            log.info("swept %d logouts of tokens expired a week and more", swept)
        return swept
