"""The embedded store orders view keys by bytes; these tests hold that order to CouchDB's."""

from __future__ import annotations

import functools

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import collation

TYPE_RANK = {type(None): 0, bool: 1, int: 2, float: 2, str: 3, list: 4, dict: 5}


def reference(a, b) -> int:
    """CouchDB's rule written out plainly (strings by code point, as PouchDB does)."""
    rank_a, rank_b = TYPE_RANK[type(a)], TYPE_RANK[type(b)]
    if rank_a != rank_b:
        return (rank_a > rank_b) - (rank_a < rank_b)
    if a is None:
        return 0
    if isinstance(a, list):
        for x, y in zip(a, b, strict=False):
            order = reference(x, y)
            if order:
                return order
        return (len(a) > len(b)) - (len(a) < len(b))
    if isinstance(a, dict):
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=False):
            order = reference(ka, kb) or reference(va, vb)
            if order:
                return order
        return (len(a) > len(b)) - (len(a) < len(b))
    return (a > b) - (a < b)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
keys = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=6,
)


def _clean(value):
    # -0.0 and 0.0 are one number in JSON; keep the reference and the encoding comparable.
    if isinstance(value, float) and value == 0:
        return 0.0
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


@given(keys, keys)
def test_byte_order_is_couchdb_order(a, b):
    a, b = _clean(a), _clean(b)
    assert collation.compare(a, b) == reference(a, b)


@given(keys, keys, st.text(max_size=5), st.text(max_size=5))
def test_a_row_sorts_by_key_then_document_id(k1, k2, id1, id2):
    k1, k2 = _clean(k1), _clean(k2)
    expected = reference(k1, k2) or reference(id1, id2)
    row1, row2 = collation.encode_row(k1, id1), collation.encode_row(k2, id2)
    assert ((row1 > row2) - (row1 < row2)) == expected


def test_the_types_sort_in_couchdbs_order():
    values = [{"a": 1}, ["a"], "a", 10, 2.5, -1, True, False, None, [], {}, "", "B", "a\x00"]
    ordered = sorted(values, key=collation.encode)
    assert ordered == sorted(values, key=functools.cmp_to_key(reference))
    assert ordered[:3] == [None, False, True]


def test_the_high_sentinel_bounds_every_row_with_a_key():
    assert collation.encode_row(["x", {}], "zzz") < collation.encode(["x", {}]) + collation.HIGH
