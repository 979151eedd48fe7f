"""A month's balance (a _sum over a key range) is added up from the embedded store's index alone:
the integer values sit in the index, so SQLite reads no table row per entry (a 30,000-entry month
answered in 4 ms instead of 50, bench.store). A store file made before is given the index
when it is next opened."""

from __future__ import annotations

import sqlite3

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.adapters.embedded.schema import connect


def _plan(path, sql: str) -> str:
    with sqlite3.connect(path) as connection:
        return " ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}"))


def test_a_ranged_sum_is_read_from_the_index_alone(tmp_path):
    path = tmp_path / "sums.sqlite3"
    EmbeddedStore(path).close()
    plan = _plan(
        path,
        "SELECT COUNT(*), COUNT(*) - COUNT(value_int), SUM(value_int) FROM view_rows "
        "WHERE db = 'm' AND design_id = '_design/kazbill_ledgers' AND view = 'balance_by_created' AND sort <= x'40'",
    )
    assert "COVERING INDEX view_rows_in_order" in plan, plan


def test_a_store_made_with_the_former_index_is_given_the_new_one(tmp_path):
    path = tmp_path / "old.sqlite3"
    connect(str(path), 5).close()
    with sqlite3.connect(path) as connection:  # as a store file made before this index
        connection.execute("DROP INDEX view_rows_in_order")
        connection.execute("CREATE INDEX view_rows_sorted ON view_rows (db, design_id, view, sort)")
    connect(str(path), 5).close()
    with sqlite3.connect(path) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "view_rows_in_order" in names and "view_rows_sorted" not in names
