"""Fixtures shared by the whole suite.

`couch_server` starts one pouchdb-server for the session (a real CouchDB-compatible HTTP server:
Debian has no CouchDB). Set KAZBILL_TEST_COUCH_URL to run the same tests against a real
CouchDB 3 instead. A service that cannot be started fails the tests that need it; nothing skips.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.security.entrances import is_security_test
from tests.support.pouchdb_server import PouchDbServer

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the security suite (tests/security/entrances.py lists it) wherever its tests live."""
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        if is_security_test(path, getattr(item, "originalname", item.name)):
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def couch_url() -> Iterator[str]:
    external = os.environ.get("KAZBILL_TEST_COUCH_URL")
    if external:
        yield external.rstrip("/")
        return
    with PouchDbServer() as server:
        assert server.url is not None
        yield server.url


@pytest.fixture
def own_couch_url() -> Iterator[str]:
    """A CouchDB-compatible server of the test's own: a running service follows every database
    on its server and crawls every account, so the shared server's other tests would be billed
    too (and slow it down), which is not what an operator's server holds."""
    with PouchDbServer() as server:
        assert server.url is not None
        yield server.url
