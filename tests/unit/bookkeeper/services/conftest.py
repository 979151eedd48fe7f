"""The fast unit layer for the services: each test gets the embedded store in memory (it passes
the store contract, tests/integration/test_store_contract.py), so a service's steps run against
a real store, in milliseconds, without a file, a server or a broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bookkeeper.ports import DocumentStore
from testkit.support.stores import open_store


@pytest.fixture
def store(tmp_path) -> Iterator[DocumentStore]:
    memory = open_store("memory", "", tmp_path)
    try:
        yield memory
    finally:
        memory.close()
