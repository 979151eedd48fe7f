"""Both store adapters behind one fixture, so each contract test runs against each."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import DatabaseNotFound, DocumentStore
from tests.support.pouchdb_server import PouchDbServer

ADAPTERS = ("embedded", "couchdb")


class CleaningStore:
    """Wraps a store and deletes, at the end of the test, every database the test created, so
    the shared test server stays small and tests never see each other's data."""

    def __init__(self, store: DocumentStore):
        self._store = store
        self._created: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def create_database(self, db: str) -> None:
        self._store.create_database(db)
        self._created.append(db)

    def ensure_database(self, db: str) -> bool:
        created = self._store.ensure_database(db)
        if created:
            self._created.append(db)
        return created

    def cleanup(self) -> None:
        for db in self._created:
            try:
                self._store.delete_database(db)
            except DatabaseNotFound:
                pass
        self._store.close()


def open_store(adapter: str, couch_url: str, tmp_path: Path) -> DocumentStore:
    if adapter == "embedded":
        return EmbeddedStore(tmp_path / "kazbill.sqlite3")
    from bookkeeper.adapters.couchdb_store import CouchDbStore

    return CouchDbStore(couch_url)


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    couch_url = request.getfixturevalue("couch_url") if request.param == "couchdb" else ""
    wrapped = CleaningStore(open_store(request.param, couch_url, tmp_path))
    try:
        yield wrapped  # type: ignore[misc]
    finally:
        wrapped.cleanup()


@pytest.fixture
def both_stores(couch_url: str, tmp_path: Path) -> Iterator[dict[str, DocumentStore]]:
    stores = {name: CleaningStore(open_store(name, couch_url, tmp_path)) for name in ADAPTERS}
    try:
        yield stores  # type: ignore[misc]
    finally:
        for wrapped in stores.values():
            wrapped.cleanup()


@pytest.fixture
def own_couch_url() -> Iterator[str]:
    """A CouchDB-compatible server of the test's own: a running service follows every database
    on its server and crawls every account, so the shared server's other tests would be billed
    too (and slow it down), which is not what an operator's server holds."""
    with PouchDbServer() as server:
        assert server.url is not None
        yield server.url
