"""Which tokens were logged out. A token whose signature holds may still have been logged out
since; how a worker knows, without asking the store on every request:

- `ReadEveryTime` asks the store for the token's revocation on every request (one read a
  request). `kazbill api` uses it on the embedded store, where that read costs microseconds and
  a feed would look at the file every 50 ms in every worker; so do tests and tools that build an
  app on their own.
- `RevocationFeed` is what `kazbill api` uses on CouchDB. Each worker keeps the revoked tokens it
  knows of, fed by a thread that follows the system database's changes:
  - a logout on the same worker counts at once;
  - a logout on another worker of the same host counts at once too: the logout also touches a
    file the host's workers share (`LogoutMarks`). A worker that finds the file touched reads
    the system database's changes before it answers. Kazbill makes that database with one copy
    on a cluster (`is_decision_database`), so the read sees the revocation written before the
    touch;
  - a logout on another host counts once the feed delivers it: CouchDB answers a waiting
    longpoll as the write lands;
  - until the feed has caught up once, and while it fails or stalls, every check asks the store,
    as `ReadEveryTime` does.

Kazoo 4.3 keeps nothing per request for this: its tokens stay valid until they expire, logout
or not (`cb_token_auth.erl:74-92`, `crossbar_auth.erl:62-129`)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, StoreError, ViewQuery
from bookkeeper.services.billing.context import get_or_none
from crossbar_api.auth import TokenClaims

log = logging.getLogger("kazbill.api")
REVOKED_PREFIX = "revoked_token:"
LONGPOLL_S = 20.0  # how long the feed's thread waits for news per request
_STALL_GRACE_S = 10.0  # beyond its longpoll, how long a feed may be silent and still trusted
_RETRY_PAUSE_S = 2.0


class Revocations(Protocol):
    """`store`: the worker's store, where revocations are written and, when need be, read."""

    def is_revoked(self, store: DocumentStore, token_id: str) -> bool: ...
    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None: ...


def write_revocation(store: DocumentStore, claims: TokenClaims) -> None:
    """Kept until the token would have expired anyway (`expires`, for a sweep to go by)."""
    doc = {"_id": REVOKED_PREFIX + claims.token_id, "pvt_type": "kazbill_revoked_token", "expires": claims.expires}
    try:
        store.put(SYSTEM_DB, doc)
    except DatabaseNotFound:
        store.ensure_database(SYSTEM_DB)
        store.put(SYSTEM_DB, doc)
    except Conflict:
        pass  # logged out twice: it is revoked either way


def read_revocation(store: DocumentStore, token_id: str) -> bool:
    return get_or_none(store, SYSTEM_DB, REVOKED_PREFIX + token_id) is not None


class ReadEveryTime:
    def is_revoked(self, store: DocumentStore, token_id: str) -> bool:
        return read_revocation(store, token_id)

    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None:
        write_revocation(store, claims)


class LogoutMarks:
    """A file the workers of one host share: a logout appends a byte to it, so its size (and
    inode, should someone remove it) changes. Kept in a directory only this user may write."""

    def __init__(self, path: Path | None):
        self.path = path

    @classmethod
    def for_store(cls, store_key: str) -> LogoutMarks:
        """The host's file for the store named by `store_key` (its URL or path)."""
        folder = Path(tempfile.gettempdir()) / f"kazbill-{os.getuid()}"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            found = folder.lstat()
            if found.st_uid != os.getuid() or found.st_mode & 0o077 or not folder.is_dir() or folder.is_symlink():
                raise PermissionError(f"{folder} is not this user's own directory")
        except OSError as error:
            log.warning("logouts reach this host's other workers through the store's feed only: %s", error)
            return cls(None)
        digest = hashlib.sha256(store_key.encode()).hexdigest()[:16]
        return cls(folder / f"logouts-{digest}")

    def touch(self) -> None:
        if self.path is None:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            log.warning("could not mark a logout for this host's other workers: %s", error)
            return
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)

    def now(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            found = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return None
        return found.st_ino, found.st_size


class RevocationFeed:
    def __init__(
        self,
        store: DocumentStore,
        marks: LogoutMarks,
        *,
        longpoll_s: float = LONGPOLL_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store, self.marks, self.longpoll_s, self.clock = store, marks, longpoll_s, clock
        self._stall_s = longpoll_s + _STALL_GRACE_S  # a feed silent this long is not trusted
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one catch-up read at a time; the others wait for it
        self._since: str | None = None  # the feed's position; None until it has caught up
        self._answered_at: float | None = None  # when the feed last answered
        self._mark = marks.now()  # the host's logout marks as last read through
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

    def is_revoked(self, store: DocumentStore, token_id: str) -> bool:
        with self._lock:
            if token_id in self._revoked:
                return True
        if not self._trusted():
            return read_revocation(store, token_id)
        with self._lock:
            return token_id in self._revoked

    def revoke(self, store: DocumentStore, claims: TokenClaims) -> None:
        write_revocation(store, claims)
        with self._lock:
            self._revoked.add(claims.token_id)
        self.marks.touch()  # after the write: a worker that sees the mark reads the revocation

    def following(self) -> bool:
        """Whether the feed has caught up and answered lately (else the checks ask the store)."""
        with self._lock:
            since, answered_at = self._since, self._answered_at
        return since is not None and answered_at is not None and self.clock() - answered_at <= self._stall_s

    def _trusted(self) -> bool:
        """The feed is following and has read past every logout marked on this host so far
        (reading past it now, if need be)."""
        if not self.following():
            return False
        with self._lock:
            mark = self._mark
        if self.marks.now() == mark:
            return True
        with self._sync_lock:
            mark_now = self.marks.now()
            with self._lock:
                if self._mark == mark_now:
                    return True  # another thread read past it meanwhile
                since = self._since
            if since is None:
                return False
            try:
                self._read(since, timeout_s=None)  # read after the mark was seen: it holds the revocation
            except StoreError:
                return False
            with self._lock:
                self._mark = mark_now
        return True

    def _read(self, since: str, timeout_s: float | None) -> str:
        page = self.store.changes(SYSTEM_DB, since, timeout_s=timeout_s)
        with self._lock:
            for change in page.changes:
                if change.id.startswith(REVOKED_PREFIX):
                    token_id = change.id.removeprefix(REVOKED_PREFIX)
                    if change.deleted:
                        self._revoked.discard(token_id)  # swept once expired
                    else:
                        self._revoked.add(token_id)
        return page.last_seq

    def _catch_up(self) -> str:
        """The revocations stored now, and the feed's position from before they were read (a
        revocation written in between is read twice, never missed)."""
        since = self.store.changes(SYSTEM_DB, "now").last_seq
        rows = self.store.all_docs(
            SYSTEM_DB, ViewQuery(start_key=REVOKED_PREFIX, end_key=REVOKED_PREFIX + "\ufff0")
        ).rows
        with self._lock:
            self._revoked.update(str(row.id).removeprefix(REVOKED_PREFIX) for row in rows)
        return since

    def _follow(self) -> None:
        since: str | None = None
        while not self._stop.is_set():
            try:
                since = self._catch_up() if since is None else self._read(since, self.longpoll_s)
                with self._lock:
                    self._since, self._answered_at = since, self.clock()
                continue
            except DatabaseNotFound:
                since = None  # (made by the first logout or login throttle): caught up afresh then
            except StoreError as error:
                log.debug("revocations feed paused: %s", error)
            except Exception:  # a bug must not leave the checks trusting a feed that stopped
                log.exception("revocations feed failed; the store is asked on every request meanwhile")
            with self._lock:
                self._answered_at = None  # every check asks the store until the feed answers again
            self._stop.wait(_RETRY_PAUSE_S)
