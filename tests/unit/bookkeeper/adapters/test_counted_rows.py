"""The embedded store counts a view's or a database's rows (`total_rows`) only when the query asks
for them: a count is O(rows), and billing never reads it (a month of calls made every rating
batch's `calls_by_id` query count every call of the month)."""

from __future__ import annotations

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import ViewQuery

DB = "kazbill_count_test"
DESIGN = {"_id": "_design/d", "language": "javascript", "views": {"by_n": {"map": "function(doc) { emit(doc.n, 1); }"}}}


def test_rows_are_counted_only_when_asked(tmp_path):
    store = EmbeddedStore(tmp_path / "count.sqlite3")
    try:
        store.create_database(DB)
        store.put(DB, DESIGN)
        store.bulk_put(DB, [{"_id": f"doc{n:02d}", "n": n} for n in range(12)])
        page = ViewQuery(start_key=3, limit=2)
        assert store.query_view(DB, "d", "by_n", page).total_rows is None
        counted = store.query_view(DB, "d", "by_n", ViewQuery(start_key=3, limit=2, count_rows=True))
        assert counted.total_rows == 12 and [row.key for row in counted.rows] == [3, 4]
        assert store.query_view(DB, "d", "by_n", ViewQuery(keys=[1, 2])).total_rows is None
        assert store.all_docs(DB, ViewQuery(limit=1)).total_rows is None
        assert store.all_docs(DB, ViewQuery(limit=1, count_rows=True)).total_rows == 13  # the design document too
    finally:
        store.close()
