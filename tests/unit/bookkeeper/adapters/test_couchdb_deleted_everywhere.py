"""A database deleted a moment ago, on a cluster: the node that deleted it answers at once, the
others still say it exists until they hear of it. The store returns from the deletion only once
several answers in a row say it is gone, as it does from a creation once they say it is there."""

from __future__ import annotations

import pytest

from bookkeeper.adapters import couchdb_new_databases
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.ports import DatabaseNotFound, StoreUnavailable

DB = "account/ab/cd/" + "e" * 28


class Answers:
    """HEADs answered from a script (True: it exists); the DELETE recorded."""

    def __init__(self, heads: list[bool | int]):
        self.heads, self.asked, self.deleted = list(heads), 0, False

    def call_status(self, op, **params):
        if op == "delete_database":
            self.deleted = True
            return {"ok": True}, 200
        assert op == "head_database", op
        self.asked += 1
        answer = self.heads.pop(0)
        if answer == 500:
            error = StoreUnavailable("http://cluster", "HTTP 500: Unknown error")
            error.http_status = 500
            raise error
        if answer:
            return {}, 200
        raise DatabaseNotFound(DB)


def store_with(monkeypatch, answers: Answers, *, one_node: bool) -> CouchDbStore:
    monkeypatch.setattr(couchdb_new_databases.time, "sleep", lambda _s: None)
    store = CouchDbStore("http://127.0.0.1:9")  # never reached: answered by `answers`
    monkeypatch.setattr(store, "_call_status", answers.call_status)
    monkeypatch.setattr(store, "_single_node", lambda: one_node)
    return store


def test_a_deletion_returns_once_every_node_says_the_database_is_gone(monkeypatch):
    # The existence check before deleting, then two lagging nodes, then four answers of "gone".
    answers = Answers([True, True, True, False, False, False, False])
    store_with(monkeypatch, answers, one_node=False).delete_database(DB)
    assert answers.deleted and answers.heads == [] and answers.asked == 7


def test_a_lagging_node_met_again_starts_the_count_afresh(monkeypatch):
    answers = Answers([True, False, False, True, False, False, False, False])
    store_with(monkeypatch, answers, one_node=False).delete_database(DB)
    assert answers.heads == []


def test_a_node_part_way_through_the_deletion_is_asked_again(monkeypatch):
    # Seen in CI on the 3-node cluster: a HEAD right after the deletion answered 500, no reason.
    answers = Answers([True, 500, False, False, False, False])
    store_with(monkeypatch, answers, one_node=False).delete_database(DB)
    assert answers.deleted and answers.heads == []


def test_one_node_is_not_asked_again(monkeypatch):
    answers = Answers([True])
    store_with(monkeypatch, answers, one_node=True).delete_database(DB)
    assert answers.deleted and answers.asked == 1


def test_a_missing_database_is_named_and_nothing_is_deleted(monkeypatch):
    answers = Answers([False])
    with pytest.raises(DatabaseNotFound, match="ab/cd"):
        store_with(monkeypatch, answers, one_node=False).delete_database(DB)
    assert not answers.deleted
