"""The write checks' quick path (document_rules._plainly_valid) passes only what the full check,
which names the field it refuses, passes too: whatever the value, the outcome is the same."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.adapters.document_rules import _check_value, _plainly_valid, check_document
from bookkeeper.ports import InvalidDocument


class Text(str):
    pass


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.sampled_from("ab\x00é")),
    st.builds(Text, st.text(max_size=3)),
    st.just(b"bytes"),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers()), inner, max_size=3),
    ),
    max_leaves=12,
)


def nested(depth: int, leaf) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def refused(value, depth: int = 1) -> bool:
    try:
        _check_value("db", "field", value, depth)
    except InvalidDocument:
        return True
    return False


@given(values)
def test_the_quick_path_passes_only_what_the_full_check_passes(value):
    if _plainly_valid(value, 1):
        assert not refused(value)


@pytest.mark.parametrize("depth", [62, 63, 64, 65])
@pytest.mark.parametrize("leaf", [1, "x", {}])
def test_depth_is_counted_alike_on_both_paths(depth, leaf):
    value = nested(depth, leaf)
    assert _plainly_valid(value, 1) == (not refused(value))


def test_a_refused_value_is_named_by_its_path():
    with pytest.raises(InvalidDocument) as raised:
        check_document("db", {"_id": "x", "usage": {"items": [1, math.nan]}})
    assert "usage.items[1]" in str(raised.value)
