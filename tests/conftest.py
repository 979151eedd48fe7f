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
