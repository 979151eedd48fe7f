"""Fixtures shared by the whole suite.

`couch_server` starts one pouchdb-server for the session (a real CouchDB-compatible HTTP server:
Debian has no CouchDB). Set KAZBILL_TEST_COUCH_URL to run the same tests against a real
CouchDB 3 instead. A service that cannot be started fails the tests that need it; nothing skips.
"""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.support.pouchdb_server import PouchDbServer


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
