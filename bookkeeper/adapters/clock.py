"""Clocks: the system's, and one that is set by hand (tests, and the accelerated demo)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stays where it is put and moves only when told to."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        with self._lock:
            self._now = moment

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


class FileClock:
    """A clock several processes share: "now" is the ISO-8601 instant written in a file.

    The accelerated demo and the end-to-end tests move time for every actor process at once
    by rewriting the file (atomically, with `set`)."""

    def __init__(self, path: str):
        self.path = path

    def now(self) -> datetime:
        with open(self.path, encoding="ascii") as source:
            moment = datetime.fromisoformat(source.read().strip())
        if moment.tzinfo is None:
            raise ValueError(f"{self.path}: a clock's time must be timezone-aware")
        return moment

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="ascii") as target:
            target.write(moment.isoformat())
        os.replace(temporary, self.path)  # readers see the old time or the new, never half
