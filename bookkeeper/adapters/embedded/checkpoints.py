"""WAL checkpoints off the write path: one thread per process copies what the embedded stores
of that process wrote into their database files, instead of the commit that happens to cross
SQLite's threshold doing it while it holds the only write lock.

Why: with SQLite's default (a checkpoint every 1,000 pages, run inside the commit that reaches
it), period openings spent about a tenth of their time in commits, the checkpoint's copy and
fsync included, and every other writer of the file waited meanwhile. Checkpointed here instead:
openings 115-129 -> 147-152 accounts/s, first billings 90-93 -> 113-116 (bench.period_close's
crawls in-process, 1,000 accounts, three runs each). A PASSIVE checkpoint never waits for a reader or a writer; it
copies what it can and the next one goes on. SQLite's own threshold stays, raised, as the
backstop for a process whose thread is not running (a child forked meanwhile starts its own at
its first write).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

EVERY_S = 0.5
# SQLite's own in-commit checkpoint, kept for when the thread lags: 10,000 pages (40 MB of WAL).
BACKSTOP_PAGES = 10_000


# Held while a checkpoint's connection is open. A fork waits for it (see the end of this
# module): a child forked mid-checkpoint inherits SQLite's record of that connection's locks
# without the connection, and no checkpoint of the file ever succeeds in it again.
_IN_PROGRESS = threading.Lock()


class Checkpointer:
    def __init__(self, every_s: float = EVERY_S):
        self.every_s = every_s
        self._written: dict[str, None] = {}
        # Closed stores' files: a round that listed one before it closed must not checkpoint it
        # after (its connection would make the WAL file again, in a directory being removed).
        self._forgotten: set[str] = set()
        self._lock = threading.Lock()
        self._owner_pid = 0
        self._stop = threading.Event()

    def written(self, path: str) -> None:
        """A commit to the store file at `path` (absolute): checkpoint it at the next round."""
        with self._lock:
            self._written[path] = None
            self._forgotten.discard(path)
            if self._owner_pid != os.getpid():  # first write here, or in a child forked since
                self._stop = threading.Event()
                thread = threading.Thread(target=self._run, args=(self._stop,), name="wal-checkpoints", daemon=True)
                try:
                    thread.start()
                except RuntimeError as error:  # no thread to be had: SQLite's backstop does it meanwhile
                    log.warning("no checkpoint thread (%s); SQLite checkpoints in its commits", error)
                    return
                self._owner_pid = os.getpid()

    def forget(self, path: str) -> None:
        """The store at `path` is closed: a round would only make its WAL file again. Returns
        once no checkpoint of it is under way, and none starts after (until it is written again):
        a caller may remove the file's directory then."""
        with self._lock:
            self._written.pop(path, None)
            if len(self._forgotten) >= 10_000:
                self._forgotten.clear()
            self._forgotten.add(path)
        with _IN_PROGRESS:  # (not inside self._lock: a fork takes that one first, then this)
            pass

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            self._owner_pid = 0

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every_s):
            with self._lock:
                paths, self._written = list(self._written), {}
            for path in paths:
                self._checkpoint(path)

    def _checkpoint(self, path: str) -> None:
        try:
            checkpoint(path, skip=lambda: path in self._forgotten)
        except Exception:  # the thread must outlive one file's trouble
            log.exception("checkpoint of %s failed", path)


def checkpoint(path: str, skip: Callable[[], bool] = lambda: False) -> None:
    """One PASSIVE checkpoint of the file, if it still exists (mode=rw: never creates one) and
    `skip` does not say its store was closed meanwhile."""
    with _IN_PROGRESS:
        if skip():
            return
        try:
            connection = sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True, timeout=1.0)
        except sqlite3.Error:
            return  # the file is gone (a removed temporary store): nothing to copy
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # busy or locked: the next round, or SQLite's backstop, does it
            log.debug("checkpoint of %s deferred: %s", path, error)
        finally:
            connection.close()


CHECKPOINTS = Checkpointer()


def _before_fork() -> None:
    CHECKPOINTS._lock.acquire()
    _IN_PROGRESS.acquire()


def _after_fork_in_parent() -> None:
    _IN_PROGRESS.release()
    CHECKPOINTS._lock.release()


def _after_fork_in_child() -> None:
    _IN_PROGRESS.release()
    CHECKPOINTS._lock.release()  # the child's first write starts its own thread (owner_pid differs)


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
