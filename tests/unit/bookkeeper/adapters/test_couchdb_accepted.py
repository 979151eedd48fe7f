"""Settling a write a cluster answered 202: the reads it takes, and what it concludes from them."""

from __future__ import annotations

import pytest

from bookkeeper.adapters import couchdb_accepted
from bookkeeper.adapters.couchdb_accepted import leaves_from_open_revs, settle_accepted_write
from bookkeeper.domain.cluster_writes import Leaf
from bookkeeper.ports import Conflict, StoreUnavailable

OURS, RIVAL = "1-" + "a" * 32, "1-" + "b" * 32


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    monkeypatch.setattr(couchdb_accepted.time, "sleep", lambda _s: None)


def test_open_revs_with_revs_name_each_leafs_ancestors_and_skip_missing_rows():
    answer = [
        {"ok": {"_id": "x", "_rev": "3-c", "_revisions": {"start": 3, "ids": ["c", "b", "a"]}}},
        {"ok": {"_id": "x", "_rev": "2-d", "_deleted": True}},
        {"missing": "9-z"},
    ]
    assert leaves_from_open_revs(answer) == [Leaf("3-c", False, frozenset({"2-b", "1-a"})), Leaf("2-d", True)]


def reads(*answers):
    """A read_leaves that answers each read in turn, the last one from then on."""
    given = list(answers)
    calls = []

    def read_leaves(db, doc_id):
        calls.append((db, doc_id))
        return given.pop(0) if len(given) > 1 else given[0]

    return read_leaves, calls


def test_a_create_not_yet_seen_is_read_again_and_gives_way_to_the_rival_found_beside_it():
    # The 3-node case: a rival's create stood on two copies; ours was taken by the third.
    read_leaves, calls = reads([Leaf(RIVAL)], [Leaf(RIVAL)], [Leaf(RIVAL), Leaf(OURS)], [Leaf(RIVAL)])
    withdrawn = []
    with pytest.raises(Conflict):
        settle_accepted_write(
            "db",
            "limits",
            OURS,
            created=True,
            location="http://couch",
            read_leaves=read_leaves,
            withdraw=lambda *args: withdrawn.append(args),
        )
    assert withdrawn == [("db", "limits", OURS)]
    assert len(calls) == 4  # twice unseen, then seen beside the rival, then after withdrawing


def test_an_update_that_shows_at_last_alone_stands():
    ours = "2-" + "a" * 32
    read_leaves, calls = reads([Leaf(RIVAL)], [Leaf(ours, ancestors=frozenset({RIVAL}))])
    assert (
        settle_accepted_write(
            "db",
            "limits",
            ours,
            created=False,
            location="http://couch",
            read_leaves=read_leaves,
            withdraw=lambda *args: pytest.fail("it stands"),
        )
        == "stands"
    )
    assert len(calls) == 2


def test_a_write_that_never_shows_is_not_called_won_or_lost_the_store_is_unavailable():
    read_leaves, calls = reads([Leaf(RIVAL)])
    with pytest.raises(StoreUnavailable, match="limits.*accepted by too few copies"):
        settle_accepted_write(
            "db",
            "limits",
            OURS,
            created=True,
            location="http://couch",
            read_leaves=read_leaves,
            withdraw=lambda *args: pytest.fail("nothing to withdraw"),
        )
    assert len(calls) == 1 + len(couchdb_accepted._UNSEEN_PAUSES_S)
