"""The embedded store: CouchDB's document model and couch_views/ on one SQLite file."""

from bookkeeper.adapters.embedded.store import EmbeddedStore

__all__ = ["EmbeddedStore"]
