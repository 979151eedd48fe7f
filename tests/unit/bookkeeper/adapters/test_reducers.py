from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.adapters.embedded.reducers import _add, reduce_count, reduce_stats, reduce_sum, reducer_for
from bookkeeper.ports import InvalidQuery

units = st.integers(-(10**18), 10**18)


@given(st.lists(units))
def test_sum_of_integer_units_is_exact_and_stays_an_integer(values):
    total = reduce_sum(values, "v")
    assert total == sum(values) and isinstance(total, int)


def test_sum_adds_arrays_element_wise_and_objects_key_wise():
    assert reduce_sum([[1, 2], [10, 20, 30]], "v") == [11, 22, 30]
    assert reduce_sum([{"debit": 5}, {"debit": 1, "credit": 2}], "v") == {"debit": 6, "credit": 2}


@given(st.lists(units, min_size=1))
def test_stats_match_their_definition(values):
    assert reduce_stats(values, "v") == {
        "sum": sum(values),
        "count": len(values),
        "min": min(values),
        "max": max(values),
        "sumsqr": sum(v * v for v in values),
    }


@given(st.lists(units, min_size=1), st.integers(1, 5))
def test_stats_of_partial_stats_equal_stats_of_everything(values, parts):
    chunks = [values[i::parts] for i in range(parts) if values[i::parts]]
    assert reduce_stats([reduce_stats(chunk, "v") for chunk in chunks], "v") == reduce_stats(values, "v")


def test_count_counts_rows_whatever_their_values():
    assert reduce_count([None, "x", {"a": 1}], "v") == 3


@pytest.mark.parametrize("values", [["12"], [None], [True]])
def test_sum_refuses_what_is_not_a_number_and_names_the_view(values):
    with pytest.raises(InvalidQuery, match="ledgers/balance"):
        reduce_sum(values, "ledgers/balance")


def test_only_builtin_reducers_are_accepted():
    assert reducer_for(" _sum ", "v") is reduce_sum
    assert reducer_for(None, "v") is None
    with pytest.raises(InvalidQuery, match="not supported"):
        reducer_for("function(keys, values) { return sum(values); }", "v")


numbers = st.one_of(units, st.booleans(), st.floats(-5, 5, allow_nan=False))
sum_values = st.one_of(
    st.lists(units),  # the shapes added up at C speed
    st.lists(st.lists(units, max_size=4)),
    st.lists(st.one_of(numbers, st.lists(numbers, max_size=3))),  # anything else: member by member
)


@given(sum_values)
def test_the_quick_sums_answer_what_adding_member_by_member_answers(values):
    def one_by_one():
        total = None
        for value in values:
            total = _add(total, value, "v")
        return 0 if total is None else total

    try:
        expected = one_by_one()
    except InvalidQuery:
        with pytest.raises(InvalidQuery):
            reduce_sum(values, "v")
        return
    answered = reduce_sum(values, "v")
    assert answered == expected
    assert type(answered) is type(expected)
    if isinstance(expected, list):
        assert [type(item) for item in answered] == [type(item) for item in expected]
