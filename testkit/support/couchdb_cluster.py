"""A CouchDB cluster the way Kazoo operators run one: three nodes (n=3, q=2) on loopback, joined
into one cluster, behind HAProxy balancing each request round-robin. Started from the release
KAZBILL_TEST_COUCHDB names (see couchdb_release.py); HAProxy is Debian's `haproxy`.

    with CouchDbCluster() as cluster:
        store = CouchDbStore(cluster.url)   # through HAProxy: each request may reach any node
        cluster.nodes[1].stop()             # a node dies; .start() brings it back with its data

Or, for a cluster someone else runs, `ClusterUrls.from_environment()` reads
KAZBILL_TEST_COUCH_CLUSTER_URL (and KAZBILL_TEST_COUCH_CLUSTER_NODES, comma-separated); its
nodes cannot be stopped from here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from testkit.support.couchdb_http import answers_up, http
from testkit.support.couchdb_release import (
    START_ATTEMPTS,
    START_TIMEOUT_S,
    STOP_GRACE_S,
    CouchDbNode,
    NodeConfig,
    release_tree,
)
from testkit.support.kazbill_service import free_port
from testkit.support.pouchdb_server import _die_with_parent, _tail

CLUSTER_URL_VARIABLE = "KAZBILL_TEST_COUCH_CLUSTER_URL"
CLUSTER_NODES_VARIABLE = "KAZBILL_TEST_COUCH_CLUSTER_NODES"
SIZE = 3
VARIANT = "couchdb-cluster"  # the id of a test's variant on the cluster, e.g. test_x[couchdb-cluster]


@dataclass(frozen=True)
class ClusterUrls:
    """What a test is given: the balancer's URL, and the nodes (started here) or their URLs."""

    url: str
    node_urls: tuple[str, ...]
    nodes: tuple[CouchDbNode, ...] = ()

    @classmethod
    def from_environment(cls) -> ClusterUrls | None:
        url = os.environ.get(CLUSTER_URL_VARIABLE, "").strip().rstrip("/")
        if not url:
            return None
        nodes = os.environ.get(CLUSTER_NODES_VARIABLE, "")
        return cls(url, tuple(n.strip().rstrip("/") for n in nodes.split(",") if n.strip()))

    def node(self, index: int) -> CouchDbNode:
        """A node the test may stop and start again; only for a cluster this suite started."""
        if not self.nodes:
            raise RuntimeError(
                f"the cluster at {CLUSTER_URL_VARIABLE} was not started by the suite: "
                "its nodes cannot be stopped from here (set KAZBILL_TEST_COUCHDB instead)"
            )
        return self.nodes[index]


def _haproxy_config(port: int, node_ports: list[int]) -> str:
    servers = "\n".join(
        f"    server n{i} 127.0.0.1:{p} check inter 1s fall 2 rise 2" for i, p in enumerate(node_ports, 1)
    )
    # Long timeouts for the changes feeds' long polls; a connection a stopped node refuses is
    # tried again on another node (retries + redispatch), as production balancers are set up.
    return f"""global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    option http-server-close
    retries 2
    option redispatch
frontend couchdb
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
"""


class CouchDbCluster:
    def __init__(self, tree: Path | None = None):
        self.tree = tree or release_tree()
        self.workdir = Path(tempfile.mkdtemp(prefix="kazbill-couchdb-cluster-"))
        self.config = NodeConfig(single_node=False, n=SIZE, q=2)  # one cookie, secret, uuid and admin
        self.nodes = [CouchDbNode(self.tree, self.config, self.workdir / f"n{i}") for i in range(1, SIZE + 1)]
        self.port: int | None = None
        self._haproxy: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://admin:{self.config.password}@127.0.0.1:{self.port}"

    def urls(self) -> ClusterUrls:
        return ClusterUrls(self.url, tuple(node.url for node in self.nodes), tuple(self.nodes))

    def __enter__(self) -> CouchDbCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> CouchDbCluster:
        atexit.register(self.stop)
        try:
            for attempt in range(1, START_ATTEMPTS + 1):
                failure = self._boot()
                if not failure:
                    break
                lost_port = any(node.exited() for node in self.nodes)
                if not lost_port or attempt == START_ATTEMPTS:  # a hang would hang again
                    raise RuntimeError(failure)
                # A port was taken between picking it and CouchDB binding it: three new nodes.
                for node in self.nodes:
                    node.stop()
                self.nodes = [
                    CouchDbNode(self.tree, self.config, self.workdir / f"n{i}-{attempt}") for i in range(1, SIZE + 1)
                ]
            self._join()
            self.nodes[0].create_system_databases()
            self._start_haproxy()
        except BaseException:
            self.stop()
            raise
        return self

    def _boot(self) -> str:
        """All three at once (~3 s rather than ~9); '' once each answers, else why not."""
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            failure = node.wait_up()
            if failure:
                return failure
        return ""

    def _join(self) -> None:
        first = self.nodes[0]
        for node in self.nodes[1:]:
            status, body = http("PUT", f"{first.base}/_node/_local/_nodes/{node.name}", first.auth, {}, 30)
            if status not in (201, 202, 409):  # 409: a retried join that already went through
                raise RuntimeError(f"{node.name} could not join {first.name}: {status} {body}")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            _, membership = http("GET", f"{first.base}/_membership", first.auth)
            if len((membership or {}).get("cluster_nodes", [])) == SIZE:
                return
            time.sleep(0.25)
        raise RuntimeError(f"the nodes did not join: _membership says {membership}")

    def _start_haproxy(self) -> None:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(haproxy).exists():
            raise RuntimeError(
                "haproxy is not installed (./scripts/setup installs it when KAZBILL_TEST_COUCHDB is set)"
            )
        self.port = free_port()
        config = self.workdir / "haproxy.cfg"
        config.write_text(_haproxy_config(self.port, [node.port for node in self.nodes if node.port]))
        # In the foreground (-db) as our child rather than daemonised (-D): its PID is ours to stop,
        # and the kernel stops it with us if the test run is killed (prctl), so no HAProxy outlives it.
        with (self.workdir / "haproxy.log").open("ab") as log:
            self._haproxy = subprocess.Popen(
                [haproxy, "-db", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._haproxy.poll() is not None:
                raise RuntimeError(f"haproxy exited: {_tail(self.workdir / 'haproxy.log')}")
            if answers_up(f"http://127.0.0.1:{self.port}"):
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"haproxy on port {self.port} did not reach the cluster: {_tail(self.workdir / 'haproxy.log')}"
        )

    def _stop_haproxy(self) -> None:
        process, self._haproxy = self._haproxy, None
        if process is None or process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=STOP_GRACE_S)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self) -> None:
        try:
            self._stop_haproxy()
        finally:
            for node in self.nodes:
                node.stop()
            atexit.unregister(self.stop)
            shutil.rmtree(self.workdir, ignore_errors=True)
