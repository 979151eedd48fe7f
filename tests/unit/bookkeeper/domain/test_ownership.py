"""Rendezvous ownership: one owner per account, and a node leaving or joining moves only what
it must."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.ownership import gained, owner_of

NODES = st.lists(st.text("abcdefgh@.:0123456789", min_size=1, max_size=12), min_size=1, max_size=6, unique=True)
KEYS = st.lists(st.text("0123456789abcdef", min_size=32, max_size=32), min_size=1, max_size=60, unique=True)


def test_worked_example_three_nodes_then_one_dies():
    accounts = [f"{n:032x}" for n in range(300)]
    three = ["kazbill@a", "kazbill@b", "kazbill@c"]
    owners = {account: owner_of(account, three) for account in accounts}
    counts = {node: sum(1 for owner in owners.values() if owner == node) for node in three}
    assert all(70 <= count <= 130 for count in counts.values()), counts  # about a third each
    two = ["kazbill@a", "kazbill@c"]
    moved = [account for account in accounts if owner_of(account, two) != owners[account]]
    assert moved and all(owners[account] == "kazbill@b" for account in moved)
    assert len(moved) == counts["kazbill@b"]
    assert owner_of(accounts[0], []) is None


@given(NODES, KEYS)
def test_every_key_has_exactly_one_owner_among_the_nodes_whatever_their_order(nodes, keys):
    for key in keys:
        assert owner_of(key, nodes) in nodes
        assert owner_of(key, list(reversed(nodes))) == owner_of(key, nodes)


@given(NODES, KEYS, st.data())
def test_a_node_leaving_moves_only_its_own_keys_and_joining_takes_only_for_itself(nodes, keys, data):
    leaving = data.draw(st.sampled_from(nodes))
    rest = [node for node in nodes if node != leaving]
    for key in keys:
        if owner_of(key, nodes) != leaving:
            assert owner_of(key, rest) == owner_of(key, nodes)
    # Joining is leaving backwards: the joiner gains exactly the keys that move.
    moved = [key for key in keys if owner_of(key, rest) != owner_of(key, nodes)]
    assert gained(keys, rest, nodes, leaving) == moved
    for other in rest:
        assert gained(keys, nodes, rest, other) == [
            key for key in keys if owner_of(key, nodes) == leaving and owner_of(key, rest) == other
        ]
