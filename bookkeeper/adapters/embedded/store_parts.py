"""What EmbeddedStore provides to the mixins it is made of (feeds, attachments, `_local`
documents): declared once, for the type checker; nothing here at run time."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from bookkeeper.adapters.embedded.locking import GuardedLock
    from bookkeeper.ports import PutResult


class StoreParts:
    if TYPE_CHECKING:
        _db: sqlite3.Connection
        _lock: GuardedLock

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _require_db(self, db: str) -> str: ...

        def _compose(self, db: str, doc_id: str, rev: str, body: str) -> dict[str, Any]: ...

        def _apply(self, db: str, doc: dict[str, Any]) -> PutResult: ...

        def get(self, db: str, doc_id: str) -> dict[str, Any]: ...
