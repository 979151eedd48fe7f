"""A store of either kind for a test or a benchmark: the embedded one in a folder, or a CouchDB."""
from __future__ import annotations

from pathlib import Path

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import DocumentStore


def open_store(adapter: str, couch_url: str, tmp_path: Path) -> DocumentStore:
    if adapter == "embedded":
        return EmbeddedStore(tmp_path / "kazbill.sqlite3")
    from bookkeeper.adapters.couchdb_store import CouchDbStore

    return CouchDbStore(couch_url)
