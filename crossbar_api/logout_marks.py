"""A file the API workers of one host share, so that a logout taken by one holds at once on the
others (crossbar_api/revocations.py): a logout appends a byte to it, and a worker that finds it
changed reads the logouts before it answers.

It lives in `<temp dir>/kazbill-<uid>/`, a directory only this user may write. Another local user
could make that directory first, or make it again after a cleaner removed ours (a sticky /tmp
stops them from removing it while it is ours). So the directory is checked every time the file
is read or touched, the file is opened without following links and without blocking (a FIFO put
in its place cannot hang a logout), and a directory or file not this user's own makes the marks
unusable: `now()` says None and every worker asks the store on each request, as it did before
the feed. A file merely gone is made again."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("kazbill.api")
Mark = tuple[int, int, int]  # the file's inode, size and modification time (ns)


class LogoutMarks:
    def __init__(self, path: Path | None):
        self.path = path  # None: this host's workers share no marks

    @classmethod
    def for_store(cls, store_key: str) -> LogoutMarks:
        """The host's file for the store named by `store_key` (its URL)."""
        digest = hashlib.sha256(store_key.encode()).hexdigest()[:16]
        return cls.made(Path(tempfile.gettempdir()) / f"kazbill-{os.getuid()}" / f"logouts-{digest}")

    @classmethod
    def made(cls, path: Path) -> LogoutMarks:
        """The marks at `path`, the file made now if need be (later, a missing file means the
        marks are not to be trusted)."""
        marks = cls(path)
        if not marks._append(b""):
            log.warning("logouts reach this host's other workers only through the store's feed: %s", path)
        return marks

    def touch(self) -> bool:
        """Marks a logout. When the mark cannot be written, the file is removed: a worker that
        finds it gone makes it again, and the new file reads as changed (`now`)."""
        if self._append(b"."):
            return True
        if self.path is not None and self._own_folder(create=False):
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            except OSError as error:
                log.error("a logout could not be marked, nor its marks withdrawn: %s", error)
        return False

    def now(self) -> Mark | None:
        """The file as it is; None when it is not to be trusted. A file gone (a cleaner of the
        temp dir, a mark that could not be written) is made again: as a new file it reads as
        changed, so every worker reads past it, logouts made meanwhile included."""
        if self.path is None or not self._own_folder(create=False):
            return None
        try:
            found = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            if not self._append(b""):
                return None
            try:
                found = os.stat(self.path, follow_symlinks=False)
            except OSError:
                return None
        except OSError:
            return None
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid():
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns

    def _own_folder(self, create: bool) -> bool:
        assert self.path is not None
        folder = self.path.parent
        try:
            if create:
                folder.mkdir(mode=0o700, exist_ok=True)
            found = os.stat(folder, follow_symlinks=False)
        except OSError:
            return False
        return stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid() and not found.st_mode & 0o077

    def _append(self, data: bytes) -> bool:
        if self.path is None or not self._own_folder(create=True):
            return False
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
        except OSError as error:
            log.warning("could not mark a logout for this host's other workers: %s", error)
            return False
        try:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid():
                log.warning("not marking logouts in %s: not this user's own file", self.path)
                return False
            if data:
                os.write(fd, data)
            return True
        except OSError as error:
            log.warning("could not mark a logout for this host's other workers: %s", error)
            return False
        finally:
            os.close(fd)
