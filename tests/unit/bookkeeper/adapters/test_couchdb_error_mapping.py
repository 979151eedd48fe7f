"""What the CouchDB adapter makes of an HTTP status: the port's error a caller can act on."""

from __future__ import annotations

import json

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.ports import Conflict, DatabaseExists, StoreUnavailable
from testkit.support.local_http import LocalHttpServer, QuietHandler


@pytest.fixture
def adapter():
    store = CouchDbStore("http://127.0.0.1:9")  # never reached: only the mapping is exercised
    yield store
    store.close()


def test_a_412_to_a_database_creation_means_the_database_exists(adapter):
    assert isinstance(adapter._map_error(412, "kazbill_numbers", None, "database", "file_exists"), DatabaseExists)


def test_a_412_to_a_document_request_is_not_taken_for_an_existing_database(adapter):
    # Seen once while a cluster node was SIGKILLed in a numbering race: a document request's 412
    # came out as DatabaseExists('kazbill_numbers'), which no caller of reserve() expects.
    error = adapter._map_error(412, "kazbill_numbers", "seq-x", "document", "precondition failed")
    assert isinstance(error, StoreUnavailable) and "412" in str(error)


def test_a_clusters_500_conflict_to_a_document_write_is_a_conflict_not_an_outage(adapter):
    assert isinstance(adapter._map_error(500, "kazbill_numbers", "seq-x", "document", "conflict"), Conflict)
    assert isinstance(adapter._map_error(500, "kazbill_numbers", "seq-x", "document", "timeout"), StoreUnavailable)


def test_a_409_is_a_conflict_on_the_document_named(adapter):
    error = adapter._map_error(409, "kazbill_numbers", "seq-x", "document", "conflict")
    assert isinstance(error, Conflict) and error.doc_id == "seq-x"


class CreationRaceLoser(LocalHttpServer):
    """A cluster node answering the loser of two racing creations of one database: 500
    {"error":"error","reason":"conflict"}, while the database, made by the winner, is there."""

    def handler(self):
        class Handler(QuietHandler):
            def _answer(self, status: int, body: dict | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                self._answer(500, {"error": "error", "reason": "conflict"})

            def do_HEAD(self):
                self._answer(200, None)

        return Handler


def test_the_loser_of_two_racing_creations_is_told_the_database_exists():
    # Seen on the 3-node cluster when racing workers each ensured kazbill_numbers; Kazoo reads
    # the same answer the same way (core/kazoo_couch/src/kz_couch_db.erl:64-77, 4.3).
    with CreationRaceLoser() as node:
        store = CouchDbStore(f"http://127.0.0.1:{node.port}")
        try:
            with pytest.raises(DatabaseExists):
                store.create_database("kazbill_numbers")
            assert store.ensure_database("kazbill_numbers") is False
        finally:
            store.close()
