"""A _sum grouped by the first elements of array keys, added up by SQLite, answers exactly what
Python's reducer answers (and hands over to it whatever SQLite cannot add up exactly)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore, collation, sql_reduce
from bookkeeper.adapters.embedded.reducers import reduce_count
from bookkeeper.adapters.embedded.views import ViewEngine
from bookkeeper.ports import ViewQuery

DB = "kazbill_reduce_test"
DESIGN = {
    "_id": "_design/sums",
    "language": "javascript",
    "views": {"by_key": {"map": "function(doc) { emit(doc.k, doc.v); }", "reduce": "_sum"}},
}
KEY_PARTS = st.one_of(st.sampled_from(["a", "b", "т", "a b"]), st.integers(-2, 2), st.booleans(), st.none())
KEYS = st.one_of(st.lists(KEY_PARTS, min_size=0, max_size=4), KEY_PARTS)
VALUES = st.one_of(st.integers(-(10**12), 10**12), st.just(2**62), st.floats(-5, 5, allow_nan=False))
_ids = itertools.count()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(KEYS, VALUES), max_size=25),
    level=st.integers(1, 4),
    start=st.one_of(st.none(), st.lists(KEY_PARTS, max_size=2)),
)
def test_sqlite_groups_and_sums_as_python_does(rows, level, start):
    with tempfile.TemporaryDirectory() as workdir:
        store = EmbeddedStore(Path(workdir) / "sums.sqlite3")
        try:
            store.create_database(DB)
            store.put(DB, DESIGN)
            store.bulk_put(DB, [{"_id": f"d{next(_ids)}", "k": key, "v": value} for key, value in rows])
            query = ViewQuery(group_level=level, start_key=start)
            answered = store.query_view(DB, "sums", "by_key", query).rows
            original = sql_reduce.grouped_sum
            sql_reduce.grouped_sum = lambda *_args, **_kw: None  # Python's reducer alone
            try:
                expected = store.query_view(DB, "sums", "by_key", query).rows
            finally:
                sql_reduce.grouped_sum = original
            assert [(row.key, row.value) for row in answered] == [(row.key, row.value) for row in expected]
            assert all(type(row.value) is type(twin.value) for row, twin in zip(answered, expected, strict=True))
        finally:
            store.close()


def test_integer_rows_under_array_keys_are_added_up_by_sqlite(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "sums.sqlite3")
    store.create_database(DB)
    store.put(DB, DESIGN)
    store.bulk_put(
        DB,
        [
            {"_id": "1", "k": ["r", "202611", "RUB", "services", "devices"], "v": -15_000_000},
            {"_id": "2", "k": ["r", "202611", "RUB", "services", "devices"], "v": 1_000_000},
            {"_id": "3", "k": ["r", "202611", "RUB", "payments", "payments"], "v": 7_000_000},
            {"_id": "4", "k": ["r", "202612", "RUB", "services", "devices"], "v": -5},
        ],
    )
    called = []
    monkeypatch.setattr(
        sql_reduce, "grouped_sum", lambda *a, _real=sql_reduce.grouped_sum: called.append(1) or _real(*a)
    )
    rows = store.query_view(
        DB, "sums", "by_key", ViewQuery(start_key=["r", "202611"], end_key=["r", "202611", {}], group_level=5)
    ).rows
    assert [(row.key, row.value) for row in rows] == [
        (["r", "202611", "RUB", "payments", "payments"], 7_000_000),
        (["r", "202611", "RUB", "services", "devices"], -14_000_000),
    ]
    assert called == [1]
    store.close()


def test_a_sum_past_64_bits_is_left_to_python_and_answers_as_it_does(tmp_path):
    store = EmbeddedStore(tmp_path / "sums.sqlite3")
    store.create_database(DB)
    store.put(DB, DESIGN)
    store.bulk_put(DB, [{"_id": str(n), "k": ["x", 1], "v": 2**62} for n in range(3)])
    grouped = store.query_view(DB, "sums", "by_key", ViewQuery(group_level=1)).rows
    whole = store.query_view(DB, "sums", "by_key", ViewQuery()).rows
    assert [row.value for row in grouped] == [row.value for row in whole] and grouped[0].value >= 3 * 2**62 - 2**12
    store.close()


GROUP_KEY_PARTS = st.one_of(KEY_PARTS, st.sampled_from([1.0, -0.0, 0.0, 2.5]), st.lists(KEY_PARTS, max_size=2))


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.one_of(st.lists(GROUP_KEY_PARTS, max_size=4), GROUP_KEY_PARTS), max_size=30),
    level=st.one_of(st.none(), st.integers(1, 4)),
)
def test_rows_are_grouped_by_their_keys_in_collation(keys, level):
    # The index's order: by key in collation, then by document id.
    selected = sorted(
        ((f"d{n:02d}", key, 1) for n, key in enumerate(keys)),
        key=lambda row: collation.encode(row[1]) + collation.encode(row[0]),
    )
    query = ViewQuery(group=level is None, group_level=level)
    answered = [(row.key, row.value) for row in ViewEngine._reduce(selected, reduce_count, query, "v")]

    expected: list[list] = []  # each row's key cut to the level, grouped when encoded alike
    for _, key, _ in selected:
        cut = key[:level] if level is not None and isinstance(key, list) else key
        if expected and collation.encode(cut) == collation.encode(expected[-1][0]):
            expected[-1][1] += 1
        else:
            expected.append([cut, 1])
    assert [collation.encode(key) for key, _ in answered] == [collation.encode(key) for key, _ in expected]
    assert [count for _, count in answered] == [count for _, count in expected]
