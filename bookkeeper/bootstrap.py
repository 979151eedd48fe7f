"""The one composition root: settings in, wired ports out. Nothing here runs at import time."""
from __future__ import annotations

from bookkeeper.config import Settings
from bookkeeper.ports import DocumentStore


def build_store(settings: Settings) -> DocumentStore:
    """CouchDB when a URL is configured, else the embedded SQLite store (the default)."""
    if settings.store_url:
        from bookkeeper.adapters.couchdb_store import CouchDbStore

        return CouchDbStore(
            settings.store_url,
            username=settings.store_username,
            password=settings.store_password,
            timeout_s=settings.store_timeout_s,
        )
    from bookkeeper.adapters.embedded import EmbeddedStore

    return EmbeddedStore(settings.store_path, busy_timeout_s=settings.store_timeout_s)
