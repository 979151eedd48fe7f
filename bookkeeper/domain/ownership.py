"""Which node of a Kazbill cluster owns an account: rendezvous (highest random weight) hashing.

Every node computes the owner from the same two things, the account id and the set of live
nodes, so no node has to be told. When a node leaves, only its accounts move (each to the node
that scores next highest for it); when a node joins, it takes only the accounts it now scores
highest for, about 1/n of them. Nothing else moves, which is what keeps a move cheap: the new
owner re-reads the accounts it gained.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def _score(node: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{node}\x00{key}".encode()).digest()[:8], "big")


def owner_of(key: str, nodes: Iterable[str]) -> str | None:
    """The node that owns `key` among `nodes` (None when there is none). Ties cannot be
    broken by order of arrival: the node name decides."""
    return max(nodes, key=lambda node: (_score(node, key), node), default=None)


def gained(keys: Iterable[str], before: Iterable[str], after: Iterable[str], me: str) -> list[str]:
    """The keys `me` owns among `after` and did not own among `before`."""
    before, after = tuple(before), tuple(after)
    return [key for key in keys if owner_of(key, after) == me and owner_of(key, before) != me]
