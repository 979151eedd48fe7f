"""The embedded store's `_local` documents: per database, never in the changes feed nor in a
view, no revision history (a checkpoint is overwritten in place, as CouchDB keeps them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bookkeeper.adapters import document_rules as rules
from bookkeeper.adapters.embedded.locking import compact_json
from bookkeeper.adapters.embedded.store_parts import StoreParts


class LocalDocsMixin(StoreParts):
    """Mixed into EmbeddedStore, whose connection and lock it uses."""

    def get_local(self, db: str, local_id: str) -> dict[str, Any] | None:
        with self._lock:
            name = self._require_db(db)
            row = self._db.execute("SELECT body FROM local_docs WHERE db = ? AND id = ?", (name, local_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put_local(self, db: str, local_id: str, body: Mapping[str, Any]) -> None:
        with self._write():
            name = self._require_db(db)
            rules.check_doc_id(name, local_id.removeprefix("_local/"), "_local id")
            clean = rules.check_document(name, {**body, "_id": "local"})
            clean.pop("_id")
            self._db.execute(
                "INSERT OR REPLACE INTO local_docs VALUES (?, ?, ?)", (name, local_id, compact_json(clean))
            )
