"""Fixtures shared by the whole suite, and how it picks its CouchDB.

- `couch_url` (one per session): KAZBILL_TEST_COUCH_URL when set; else a real CouchDB single node
  started from the release KAZBILL_TEST_COUCHDB names (testkit/support/couchdb_release.py); else
  pouchdb-server in memory.
- `own_couch_url` (one per test, for a running service, which follows every database on its
  server): a fresh real CouchDB when the release is available, else a fresh pouchdb-server.
- `couch_cluster_url` (one per session): a 3-node CouchDB cluster behind HAProxy, from the release
  or KAZBILL_TEST_COUCH_CLUSTER_URL. Modules marked `couchdb_cluster` run their `store`,
  `couchdb_url` and `own_couch_url` tests on it too; without a cluster those variants are not
  generated, tests that ask for the cluster itself are deselected, and the report header says so.

A service that cannot be started fails the tests that need it; nothing skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from testkit.support.couch_servers import (
    CLUSTER,
    cluster_available,
    fresh_server,
    report_lines,
    session_cluster,
    session_server,
)
from testkit.support.couchdb_cluster import ClusterUrls
from tests.security.entrances import is_security_test

ROOT = Path(__file__).resolve().parent.parent

# No test asserts a time (the machine is shared and noisy): Hypothesis's per-example deadline and
# its too-slow health check are off for the whole suite, not module by module.
settings.register_profile("kazbill", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kazbill")
ON_CLUSTER_TOO = ("store", "couchdb_url", "own_couch_url")  # the fixtures a marked module's variants vary


def pytest_report_header(config: pytest.Config) -> list[str]:
    return report_lines()


def _argnames(mark: pytest.Mark) -> list[str]:
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The cluster variants of a marked module's tests, and the in-memory store's variant of the
    store contract's, as parametrize marks (run before pytest's own hook, which turns them into
    calls; a fixture's own params then give way to them)."""
    marker = metafunc.definition.get_closest_marker("couchdb_cluster")
    on_cluster = marker is not None and cluster_available(heavy=bool(marker.kwargs.get("heavy")))
    in_memory = metafunc.definition.get_closest_marker("store_contract") is not None
    if not (on_cluster or in_memory):
        return  # the test keeps its usual variants and names
    for name in ON_CLUSTER_TOO:
        if name in metafunc.fixturenames and not any(
            name in _argnames(mark) for mark in metafunc.definition.iter_markers("parametrize")
        ):
            variants = (
                ["embedded", *(["memory"] if in_memory else []), "couchdb"] if name == "store" else ["couchdb"]
            ) + ([CLUSTER] if on_cluster else [])
            metafunc.definition.add_marker(pytest.mark.parametrize(name, variants, indirect=True))
            return  # one of them per test: they all mean "the server this test runs on"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the security suite (tests/security/entrances.py lists it) wherever its tests live;
    deselects, visibly, the tests that need a cluster when there is none."""
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        if is_security_test(path, getattr(item, "originalname", item.name)):
            item.add_marker(pytest.mark.security)
    if cluster_available():
        return
    needs_cluster = [item for item in items if "couch_cluster_url" in getattr(item, "fixturenames", ())]
    if needs_cluster:
        config.hook.pytest_deselected(items=needs_cluster)
        items[:] = [item for item in items if item not in needs_cluster]


@pytest.fixture(scope="session")
def couch_url() -> Iterator[str]:
    with session_server() as url:
        yield url


@pytest.fixture(scope="session")
def couch_cluster_url() -> Iterator[ClusterUrls]:
    """The cluster's HAProxy URL and its nodes (which a test may stop and start again)."""
    with session_cluster() as cluster:
        yield cluster


@pytest.fixture
def couchdb_url(request: pytest.FixtureRequest) -> str:
    """The CouchDB a test of a `couchdb_cluster` module runs on: the session's server, or the cluster."""
    if getattr(request, "param", "couchdb") == CLUSTER:
        return request.getfixturevalue("couch_cluster_url").url
    return request.getfixturevalue("couch_url")


@pytest.fixture
def own_couch_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A CouchDB-compatible server of the test's own: a running service follows every database
    on its server and crawls every account, so the shared server's other tests would be billed
    too (and slow it down), which is not what an operator's server holds. In a `couchdb_cluster`
    module's cluster variant, a fresh cluster."""
    with fresh_server(getattr(request, "param", "couchdb")) as url:
        yield url
