"""Pieces of the embedded store that are not about documents: its lock, which also maps
SQLite's transient failures onto StoreUnavailable, and how revisions and bodies are written and read back."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from bookkeeper.ports import StoreUnavailable

_TRANSIENT = re.compile(r"locked|busy|disk I/O|unable to open", re.IGNORECASE)


class GuardedLock:
    """The store's lock, which also turns SQLite's "database is locked" (another process held
    the file past the busy timeout) and I/O errors into StoreUnavailable: the callers' signal to
    come back later rather than to record a failure."""

    def __init__(self, path: str):
        self._lock = threading.RLock()
        self._path = path

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        self._lock.release()
        if isinstance(error, sqlite3.OperationalError) and _TRANSIENT.search(str(error)):
            raise StoreUnavailable(self._path, str(error)) from error


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads_all(texts: Sequence[str]) -> list[Any]:
    """Stored JSON texts decoded in one pass of the C decoder: a page of 50 view rows with their
    documents decoded one by one spent more in json.loads's Python wrapper than in decoding."""
    return json.loads(f"[{','.join(texts)}]") if texts else []


def next_rev(previous: str | None, body_text: str, attachments: Any, deleted: bool) -> str:
    """The revision after `previous` of a body stored as `body_text` (compact JSON, without the
    special members): its digest is that of the body with its attachments as a last member,
    spliced into the text already encoded for storage rather than encoded a second time."""
    generation = int(previous.split("-", 1)[0]) + 1 if previous else 1
    tail = f'"_attachments":{compact_json(attachments)}}}'
    whole = f"{body_text[:-1]},{tail}" if body_text != "{}" else f"{{{tail}"
    digest = hashlib.md5(f"{previous or ''}|{int(deleted)}|{whole}".encode()).hexdigest()
    return f"{generation}-{digest}"
