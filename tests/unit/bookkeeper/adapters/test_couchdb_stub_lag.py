"""A cluster answers 412 "Invalid attachment stub" to an update naming an attachment written a
moment before when a copy the update reaches has not got that revision yet (seen in CI on the
3-node cluster): the update is asked again a few times before the error stands."""

from __future__ import annotations

import pytest

from bookkeeper.adapters import couchdb_store
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.ports import StoreUnavailable

DB = "account/ab/cd/" + "e" * 28
STUB = {"invoice.pdf": {"stub": True, "content_type": "application/pdf", "digest": "md5-x", "length": 3}}


def stub_refused() -> StoreUnavailable:
    error = StoreUnavailable("http://cluster", "HTTP 412: Invalid attachment stub in inv for invoice.pdf")
    error.http_status = 412
    return error


@pytest.fixture
def store(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr(couchdb_store.time, "sleep", pauses.append)
    store = CouchDbStore("http://127.0.0.1:9")  # never reached: the writes are answered below
    store.pauses = pauses  # type: ignore[attr-defined]
    return store


def answering(store, monkeypatch, *answers):
    given = list(answers)

    def call_status(op, **params):
        answer = given.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(store, "_call_status", call_status)


def test_an_update_whose_stub_a_lagging_copy_refuses_is_written_once_the_copy_has_caught_up(store, monkeypatch):
    answering(store, monkeypatch, stub_refused(), stub_refused(), ({"id": "inv", "rev": "3-abc"}, 201))
    written = store.put(DB, {"_id": "inv", "_rev": "2-abc", "state": "emailed", "_attachments": STUB})
    assert (written.id, written.rev) == ("inv", "3-abc")
    assert store.pauses == [0.05, 0.1]


def test_a_stub_still_refused_after_the_pauses_is_an_error(store, monkeypatch):
    answering(store, monkeypatch, *[stub_refused()] * (len(couchdb_store._STUB_PAUSES_S) + 1))
    with pytest.raises(StoreUnavailable, match="attachment stub"):
        store.put(DB, {"_id": "inv", "_rev": "2-abc", "_attachments": STUB})
    assert store.pauses == list(couchdb_store._STUB_PAUSES_S)


def test_other_refusals_are_not_asked_again(store, monkeypatch):
    other = StoreUnavailable("http://cluster", "HTTP 412: no quorum")
    other.http_status = 412
    answering(store, monkeypatch, other)
    with pytest.raises(StoreUnavailable, match="no quorum"):
        store.put(DB, {"_id": "inv", "_rev": "2-abc", "_attachments": STUB})
    assert store.pauses == []
