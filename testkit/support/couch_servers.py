"""Which CouchDB the suite runs on, decided from the environment (tests/conftest.py's fixtures use
this; a test module may too, for a server of its own):

- KAZBILL_TEST_COUCH_URL: a CouchDB someone runs, shared by the session;
- KAZBILL_TEST_COUCHDB: an Apache CouchDB release the suite starts itself (couchdb_release.py),
  single nodes, and a 3-node cluster behind HAProxy (couchdb_cluster.py; the reliability runs
  on it too, unless KAZBILL_TEST_COUCH_CLUSTER=light);
- KAZBILL_TEST_COUCH_CLUSTER_URL: a cluster someone runs;
- none of them: pouchdb-server, the stand-in, and no cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from bookkeeper.config import mask_url_password
from testkit.support.couchdb_cluster import VARIANT as CLUSTER
from testkit.support.couchdb_cluster import ClusterUrls, CouchDbCluster
from testkit.support.couchdb_release import describe_release, release_path, start_single_node
from testkit.support.pouchdb_server import PouchDbServer

SINGLE = "couchdb"


def external_url() -> str | None:
    return os.environ.get("KAZBILL_TEST_COUCH_URL", "").strip().rstrip("/") or None


def cluster_available(*, heavy: bool = False) -> bool:
    """A cluster someone runs, or one the suite starts from the release: the store contract, the
    document numbers, the cluster write tests and the reliability runs (`heavy`: a fresh cluster
    per test, about 15 minutes) run on it whenever the release is there.
    KAZBILL_TEST_COUCH_CLUSTER=light leaves the reliability runs out, =0 the cluster altogether."""
    if ClusterUrls.from_environment() is not None:
        return True
    asked = os.environ.get("KAZBILL_TEST_COUCH_CLUSTER", "").strip()
    return release_path() is not None and asked != "0" and not (heavy and asked == "light")


@contextmanager
def fresh_server(kind: str = SINGLE) -> Iterator[str]:
    """A server nobody else uses, its URL (with the admin's credentials on a real CouchDB), stopped
    by PID on leaving: a real CouchDB single node (or cluster) when the release is available, else
    pouchdb-server. A cluster the suite cannot start (KAZBILL_TEST_COUCH_CLUSTER_URL) is shared."""
    if kind == CLUSTER:
        external = ClusterUrls.from_environment()
        if external is not None:
            yield external.url
        elif release_path() is None:
            raise RuntimeError("no CouchDB cluster: set KAZBILL_TEST_COUCHDB or KAZBILL_TEST_COUCH_CLUSTER_URL")
        else:
            with CouchDbCluster() as cluster:
                yield cluster.url
    elif release_path() is not None:
        node = start_single_node()
        try:
            yield node.url
        finally:
            node.stop(remove=True)
    else:
        with PouchDbServer() as server:
            assert server.url is not None
            yield server.url


@contextmanager
def session_server() -> Iterator[str]:
    """The server the session's store-level tests share."""
    external = external_url()
    if external:
        yield external
    else:
        with fresh_server(SINGLE) as url:
            yield url


@contextmanager
def session_cluster() -> Iterator[ClusterUrls]:
    external = ClusterUrls.from_environment()
    if external is not None:
        yield external
    elif release_path() is None:
        raise RuntimeError("no CouchDB cluster: set KAZBILL_TEST_COUCHDB or KAZBILL_TEST_COUCH_CLUSTER_URL")
    else:
        with CouchDbCluster() as cluster:
            yield cluster.urls()


def report_lines() -> list[str]:
    """What backs the suite, for pytest's header: a run on the stand-in is never mistaken for one
    on CouchDB, and variants not generated are said to be missing."""
    release, external, cluster_env = release_path(), external_url(), ClusterUrls.from_environment()
    if external:
        single = f"{mask_url_password(external)} (KAZBILL_TEST_COUCH_URL)"
    elif release:
        single = f"{describe_release(release)}, single node (KAZBILL_TEST_COUCHDB)"
    else:
        single = "pouchdb-server, in memory (set KAZBILL_TEST_COUCHDB or KAZBILL_TEST_COUCH_URL for a real CouchDB)"
    own = f"a fresh {describe_release(release)} single node each" if release else "a fresh pouchdb-server each"
    if cluster_env:
        cluster = f"{mask_url_password(cluster_env.url)} (KAZBILL_TEST_COUCH_CLUSTER_URL)"
    elif release and cluster_available(heavy=True):
        cluster = f"3 nodes of {describe_release(release)} (n=3, q=2) behind HAProxy, the reliability runs too"
    elif release and cluster_available():
        cluster = (
            f"3 nodes of {describe_release(release)} (n=3, q=2) behind HAProxy; the reliability "
            "runs' cluster variants left out (KAZBILL_TEST_COUCH_CLUSTER=light)"
        )
    elif release:
        cluster = f"turned off (KAZBILL_TEST_COUCH_CLUSTER=0): no [{CLUSTER}] variants, cluster-only tests deselected"
    else:
        cluster = (
            "not available, set KAZBILL_TEST_COUCHDB (or KAZBILL_TEST_COUCH_CLUSTER_URL): "
            f"no [{CLUSTER}] variants, cluster-only tests deselected"
        )
    return [f"couchdb: {single}", f"couchdb for a running service: {own}", f"cluster: {cluster}"]
