"""The cluster write rule: what a 202 means, and which revision stands in a conflict."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.cluster_writes import (
    Leaf,
    couchdb_winner,
    is_decision_database,
    judge_accepted_write,
    nothing_stands,
    resolve_conflict,
)

OURS = "2-" + "a" * 32
RIVAL = "2-" + "b" * 32


def test_an_update_answered_202_with_only_its_own_leaf_stands():
    assert judge_accepted_write(OURS, [Leaf(OURS)], created=False) == "won"


def test_an_update_answered_202_beside_a_rival_leaf_lost():
    assert judge_accepted_write(OURS, [Leaf(OURS), Leaf(RIVAL)], created=False) == "lost"


def test_when_every_writer_gave_way_nothing_stands_and_one_writes_again():
    # Two writers answered 202, each seeing the other: both withdraw, and the document is gone.
    assert judge_accepted_write(OURS, [Leaf(OURS), Leaf(RIVAL)], created=False) == "lost"
    assert judge_accepted_write(RIVAL, [Leaf(OURS), Leaf(RIVAL)], created=False) == "lost"
    withdrawn = [Leaf("3-" + "1" * 32, deleted=True), Leaf("3-" + "2" * 32, deleted=True)]
    assert nothing_stands(withdrawn) and not nothing_stands([*withdrawn, Leaf(RIVAL)])


def test_a_rival_that_was_deleted_already_does_not_beat_it():
    assert judge_accepted_write(OURS, [Leaf(OURS), Leaf("3-" + "c" * 32, deleted=True)], created=False) == "won"


def test_a_new_document_answered_202_alone_is_not_a_first_write():
    # An identical body written a moment earlier has the identical revision: nothing tells them apart.
    assert judge_accepted_write("1-" + "a" * 32, [Leaf("1-" + "a" * 32)], created=True) == "already_there"


def test_a_revision_somebody_built_on_was_the_one_shown():
    assert judge_accepted_write(OURS, [Leaf("3-" + "d" * 32, ancestors=frozenset({OURS}))], created=False) == "won"


def test_a_revision_the_read_copies_have_not_got_yet_proves_nothing():
    # Seen on a 3-node cluster: our create was taken by the one copy that lacked the document,
    # and the read was answered by the two that had another's revision.
    rival = Leaf("1-" + "b" * 32)
    assert judge_accepted_write("1-" + "a" * 32, [rival], created=True) == "unseen"
    assert judge_accepted_write(OURS, [Leaf("3-" + "d" * 32, ancestors=frozenset({RIVAL}))], created=False) == "unseen"


def test_a_deletion_answered_202_beside_a_live_rival_did_not_take():
    assert judge_accepted_write(OURS, [Leaf(OURS, deleted=True), Leaf(RIVAL)], created=False) == "lost"


def test_couchdbs_winner_is_live_then_longest_then_greatest():
    assert couchdb_winner([Leaf("3-" + "0" * 32, deleted=True), Leaf(OURS)]).rev == OURS
    assert couchdb_winner([Leaf("3-" + "0" * 32), Leaf(RIVAL)]).rev == "3-" + "0" * 32
    assert couchdb_winner([Leaf(OURS), Leaf(RIVAL)]).rev == RIVAL


def test_a_worked_conflict_keeps_what_readers_were_shown_and_deletes_the_rest():
    resolution = resolve_conflict([Leaf(OURS), Leaf(RIVAL), Leaf("1-" + "e" * 32, deleted=True)])
    assert (resolution.kept, resolution.withdrawn) == (RIVAL, (OURS,))


def test_kazbills_own_databases_are_the_decision_databases():
    assert is_decision_database("kazbill_numbers") and is_decision_database("kazbill_nodes")
    assert not is_decision_database("accounts") and not is_decision_database("account%2F4a%2F1b%2Fc0ffee-202611")


leaf = st.builds(
    lambda gen, rid, deleted: Leaf(f"{gen}-{rid}", deleted),
    st.integers(1, 9),
    st.text("0123456789abcdef", min_size=32, max_size=32),
    st.booleans(),
)


@given(st.lists(leaf, min_size=1, max_size=6, unique_by=lambda leaf: leaf.rev))
def test_resolution_leaves_exactly_one_live_leaf_the_shown_one_whatever_the_order(leaves):
    resolution = resolve_conflict(leaves)
    assert resolution == resolve_conflict(list(reversed(leaves)))  # everyone who looks agrees
    assert resolution.kept == couchdb_winner(leaves).rev
    live_after = {leaf.rev for leaf in leaves if not leaf.deleted} - set(resolution.withdrawn)
    assert live_after == ({resolution.kept} if any(not leaf.deleted for leaf in leaves) else set())


@given(st.lists(leaf, min_size=1, max_size=6, unique_by=lambda leaf: leaf.rev), st.booleans())
def test_of_two_writers_answered_202_at_most_one_is_told_it_won(leaves, created):
    live = [leaf for leaf in leaves if not leaf.deleted]
    verdicts = [judge_accepted_write(leaf.rev, leaves, created=created) for leaf in live]
    if len(live) > 1:
        assert "won" not in verdicts  # beside another live revision, each gives way
    else:
        assert all(verdict in ("won", "already_there") for verdict in verdicts)
