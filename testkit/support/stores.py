"""A store of any kind for a test or a benchmark: the embedded one in a folder or in memory (the
fast unit layer's), or a CouchDB."""

from __future__ import annotations

from pathlib import Path

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import DocumentStore


def open_store(adapter: str, couch_url: str, tmp_path: Path) -> DocumentStore:
    if adapter == "embedded":
        return EmbeddedStore(tmp_path / "kazbill.sqlite3")
    if adapter == "memory":
        return EmbeddedStore(":memory:")
    from bookkeeper.adapters.couchdb_store import CouchDbStore

    return CouchDbStore(couch_url)
