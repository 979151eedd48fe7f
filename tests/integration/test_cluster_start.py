"""The test support's 3-node cluster comes up even when a port it picked is taken before CouchDB
binds it (CI, 2026-12-05: a node exited with eaddrinuse and its cluster test errored at setup):
the three nodes are started again on new ports."""

from __future__ import annotations

import socket

import pytest

from testkit.support import couchdb_cluster
from testkit.support.couchdb_cluster import CouchDbCluster
from testkit.support.couchdb_http import http

pytestmark = [pytest.mark.integration, pytest.mark.couchdb_cluster]


def test_a_port_taken_before_a_node_binds_it_gives_three_new_nodes(couch_cluster_url, monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    first: list[int] = []
    start = couchdb_cluster.CouchDbNode.start

    def losing_its_port(node, wait=True):
        if not first:
            node.port = taken.getsockname()[1]
            first.append(node.port)
        return start(node, wait)

    monkeypatch.setattr(couchdb_cluster.CouchDbNode, "start", losing_its_port)
    try:
        with CouchDbCluster() as cluster:
            assert first[0] not in [node.port for node in cluster.nodes]
            status, membership = http("GET", f"{cluster.nodes[0].base}/_membership", cluster.nodes[0].auth, None, 30)
            assert status == 200 and len(membership["cluster_nodes"]) == 3
    finally:
        taken.close()
