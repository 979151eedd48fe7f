"""Which tokens were logged out (the records themselves: crossbar_api/revocation_records.py). A
token whose signature holds may still have been logged out since; how a worker knows, without
asking the store on every request:

- `ReadEveryTime` asks the store for the token's revocation on every request (one read a
  request). `kazbill api` uses it on the embedded store, where that read costs microseconds and
  a feed would look at the file every 50 ms in every worker; so do tests and tools that build an
  app on their own.
- `RevocationFeed` is what `kazbill api` uses on CouchDB. Each worker keeps the revoked tokens it
  knows of (until they expire), fed by a thread that follows the system database's changes:
  - a logout on the same worker counts at once;
  - a logout on another worker of the same host counts at once too: the logout also touches a
    file the host's workers share (crossbar_api/logout_marks.py). A worker that finds the file
    changed reads the system database's changes before it answers. Kazbill makes that database
    with one copy on a cluster (`is_decision_database`; checked when the feed starts), so the
    read sees the revocation written before the touch;
  - a logout on another host counts once the feed delivers it: CouchDB answers a waiting
    longpoll as the write lands;
  - every check asks the store, as `ReadEveryTime` does, until the feed has caught up, while it
    fails or goes unanswered past its wait, when the host's marks cannot be read, and when the
    system database has more than one copy.

Kazoo 4.3 keeps nothing per request for this: its tokens stay valid until they expire, logout
or not (`cb_token_auth.erl:74-92`, `crossbar_auth.erl:62-129`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import DatabaseNotFound, DocumentStore, StoreError, ViewQuery
from crossbar_api.auth import TokenClaims
from crossbar_api.logout_marks import LogoutMarks
from crossbar_api.revocation_records import (
    LEGACY_PREFIX,
    REVOKED_PREFIX,
    RevocationSweep,
    expires_at,
    parsed_id,
    read_revocation,
    sortable,
    write_revocation,
)

log = logging.getLogger("kazbill.api")
LONGPOLL_S = 5.0  # how long the feed's thread waits for news per request
STALL_GRACE_S = 5.0  # beyond its longpoll, how long a feed may go unanswered and still be trusted
_RETRY_PAUSE_S = 2.0
# A failure or two is a restart or a blip (the first logged at info); this many in a row is an
# operator's business: every request reads the store meanwhile. Said again every that many tries.
WARN_AFTER_FAILURES = 5
FORGET_AFTER_S = 86_400  # past a token's expiry, when a worker forgets its revocation


class Revocations(Protocol):
    """`store`: the worker's store, where revocations are written and, when need be, read."""

    def is_revoked(self, store: DocumentStore, claims: TokenClaims) -> bool: ...
    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None: ...


class ReadEveryTime:
    def __init__(self, sweep: RevocationSweep | None = None):
        self.sweep = sweep  # what `kazbill api` passes; tools and tests leave old logouts be

    def is_revoked(self, store: DocumentStore, claims: TokenClaims) -> bool:
        return read_revocation(store, claims)

    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None:
        write_revocation(store, claims)
        if self.sweep is not None:
            self.sweep.after_logout(store)


class RevocationFeed:
    def __init__(
        self,
        store: DocumentStore,
        marks: LogoutMarks,
        *,
        longpoll_s: float = LONGPOLL_S,
        stall_grace_s: float = STALL_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        retry_pause_s: float = _RETRY_PAUSE_S,
        sweep: RevocationSweep | None = None,
    ):
        self.store, self.marks, self.longpoll_s, self.clock, self.wall = store, marks, longpoll_s, clock, wall
        self._stall_s = longpoll_s + stall_grace_s  # a feed unanswered this long is not trusted
        self._retry_pause_s = retry_pause_s
        self._sweep = sweep
        self._revoked: dict[str, int] = {}  # token id -> when the token expires (Unix seconds)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one read past the marks at a time; the others wait for it
        self._since: str | None = None  # the feed's position; None until it has caught up
        self._answered_at: float | None = None  # when the server last answered the feed
        self._one_copy = False  # the system database is known to have one copy (or one server)
        self._mark = marks.now()  # the host's logout marks as last read past
        self._cutoff = float("-inf")  # tokens that expired before this were forgotten (wall clock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RevocationFeed:
        self._thread = threading.Thread(target=self._follow, name="kazbill-revocations", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends the thread, once its current read is answered (at most a longpoll's wait)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def is_revoked(self, store: DocumentStore, claims: TokenClaims) -> bool:
        with self._lock:
            if claims.token_id in self._revoked:
                return True
        if not self._trusted():
            return read_revocation(store, claims)
        with self._lock:
            return claims.token_id in self._revoked

    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None:
        write_revocation(store, claims)
        with self._lock:
            self._revoked[claims.token_id] = claims.expires
        self.marks.touch()  # after the write: a worker that sees the mark reads the revocation
        if self._sweep is not None:  # (deleted records reach the feeds: their tokens are long expired)
            self._sweep.after_logout(store)

    def following(self) -> bool:
        """Whether the feed has caught up and the server answered it lately (else the checks ask
        the store)."""
        with self._lock:
            since, answered_at, one_copy = self._since, self._answered_at, self._one_copy
        return (
            one_copy and since is not None and answered_at is not None and self.clock() - answered_at <= self._stall_s
        )

    def _trusted(self) -> bool:
        """The feed is following and has read past every logout marked on this host so far
        (reading past it now, if need be)."""
        if not self.following():
            return False
        mark_now = self.marks.now()
        if mark_now is None:
            return False  # no marks to go by: a logout on another worker here may be unread
        with self._lock:
            if self._mark == mark_now:
                return True
        with self._sync_lock:
            mark_now = self.marks.now()
            with self._lock:
                since = self._since
                if mark_now is not None and self._mark == mark_now:
                    return True  # another thread read past it meanwhile
            if mark_now is None or since is None:
                return False
            try:
                # Read after the mark was seen: it holds every revocation marked before.
                self._note(self.store.changes(SYSTEM_DB, since, include_docs=True).changes)
            except StoreError:
                return False
            with self._lock:
                self._mark = mark_now
        return True

    def _note(self, changes: Iterable[Any]) -> None:
        with self._lock:
            for change in changes:
                parsed = parsed_id(change.id)
                if parsed is None:
                    continue
                if change.deleted:
                    self._revoked.pop(parsed[0], None)
                else:
                    self._revoked[parsed[0]] = expires_at(change.doc)

    def _catch_up(self) -> str:
        """The revocations of tokens that have not been forgotten (see _forget_expired), and the
        feed's position from before they were read (a revocation written in between is read
        twice, never missed). Their ids sort by expiry, so only those are read."""
        copies = self.store.database_info(SYSTEM_DB).copies
        since = self.store.changes(SYSTEM_DB, "now").last_seq
        cutoff = self.wall() - FORGET_AFTER_S
        start = REVOKED_PREFIX + sortable(cutoff)
        rows = self.store.all_docs(SYSTEM_DB, ViewQuery(start_key=start, end_key=REVOKED_PREFIX + "\ufff0")).rows
        legacy = self.store.all_docs(
            SYSTEM_DB, ViewQuery(start_key=LEGACY_PREFIX, end_key=LEGACY_PREFIX + "\ufff0", include_docs=True)
        ).rows
        with self._lock:
            for row in [*rows, *legacy]:
                parsed = parsed_id(str(row.id))
                if parsed is not None:
                    token_id, until = parsed
                    self._revoked[token_id] = until if until is not None else expires_at(row.doc)
            self._one_copy = copies in (None, 1)
            # What was left unread counts as forgotten: a clock set back past it before the next
            # look makes the feed catch up afresh (_forget_expired), as for what it forgot itself.
            self._cutoff = cutoff
        if self._one_copy:
            log.info("following %s's changes for logouts", SYSTEM_DB)
        else:
            log.warning(
                "%s has %s copies: a logout's mark is no proof the feed shows it, so every request reads it",
                SYSTEM_DB,
                copies,
            )
        return since

    def _forget_expired(self) -> bool:
        """Forgets tokens a day past their expiry: their signature check refuses them. False when
        the clock went back past what was forgotten (a demo's clock file replayed, a clock
        stepped back): a token forgotten then may pass its signature check again, so the feed
        catches up afresh from the store."""
        cutoff = self.wall() - FORGET_AFTER_S
        with self._lock:
            if cutoff < self._cutoff:
                return False
            self._cutoff = cutoff
            for token_id in [token_id for token_id, expires in self._revoked.items() if expires < cutoff]:
                del self._revoked[token_id]
        return True

    def _follow(self) -> None:
        since: str | None = None
        failures = 0  # in a row
        missing_said = False
        while not self._stop.is_set():
            try:
                if since is None:
                    since = self._catch_up()  # (which says what it left unread: _cutoff)
                else:
                    page = self.store.changes(SYSTEM_DB, since, include_docs=True, timeout_s=self.longpoll_s)
                    self._note(page.changes)
                    since = page.last_seq
                    if page.expired:
                        continue  # the client gave up waiting: no sign the server is there
                failures = 0
                if not self._forget_expired():
                    with self._lock:
                        self._since, self._answered_at = None, None  # the store is asked meanwhile
                    since = None
                    continue
                with self._lock:
                    self._since, self._answered_at = since, self.clock()
                continue
            except DatabaseNotFound:
                since = None  # (made by the first logout or login throttle): caught up afresh then
                if not missing_said:
                    missing_said = True
                    log.info("no %s yet: every request reads the store until the feed catches up", SYSTEM_DB)
            except StoreError as error:
                failures += 1
                self._say_failed(failures, error)
            except Exception:  # a bug must not leave the checks trusting a feed that stopped
                log.exception("revocations feed failed; the store is asked on every request meanwhile")
            with self._lock:
                self._answered_at = None  # every check asks the store until the feed answers again
            self._stop.wait(self._retry_pause_s)

    def _say_failed(self, failures: int, error: StoreError) -> None:
        if failures == 1:  # at each outage's start: a store restart says so once per worker
            log.info("revocations feed paused, the store is asked meanwhile: %s", error)
        elif failures % WARN_AFTER_FAILURES:
            log.debug("revocations feed paused: %s", error)
        else:
            log.warning(
                "revocations feed: %s failures in a row (last: %s); every request reads the store meanwhile",
                failures,
                error,
            )
