"""A worker's kept rows of a month's transactions (crossbar_api/month_tops.py): answered from them
only while the month's database is unchanged and has one copy, and then exactly what the view
query would answer. The embedded store stands in for CouchDB's view engine (its collation is
CouchDB's); it reports no copies, so a wrapper says one, as a single CouchDB server does."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.ports import DatabaseInfo, DatabaseNotFound, ViewQuery
from bookkeeper.services.setup import store_setup
from crossbar_api.month_tops import DESIGN, VIEW, MonthTops

DB = "account%2Fab%2Fcd%2Fef0123456789abcdef0123456789-202612"
NOW = 63_960_000_000


class OneCopy:
    """The store as a single CouchDB answers: one copy; view queries counted."""

    def __init__(self, store: EmbeddedStore, copies: int = 1):
        self.store, self.copies, self.views, self.infos = store, copies, 0, 0

    def database_info(self, db: str) -> DatabaseInfo:
        self.infos += 1
        info = self.store.database_info(db)
        return DatabaseInfo(info.name, info.doc_count, info.update_seq, self.copies)

    def query_view(self, db: str, design: str, view: str, query: ViewQuery) -> Any:
        self.views += 1
        return self.store.query_view(db, design, view, query)


def entry(n: int, created: Any) -> dict[str, Any]:
    return {
        "_id": f"e{n:05d}",
        "pvt_type": "ledger",
        "pvt_ledger_type": "credit",
        "amount": 100,
        "pvt_created": created,
    }


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "tops.sqlite3")
    store.create_database(DB)
    store_setup.install_design_docs(store, DB, load_design_docs())
    yield store
    store.close()


def exact(store: EmbeddedStore, start: int, end: int, limit: int) -> list[tuple[Any, str]]:
    query = ViewQuery(descending=True, start_key=start, end_key=end, limit=limit)
    return [(row.key, row.id) for row in store.query_view(DB, DESIGN, VIEW, query).rows]


def test_a_page_read_again_while_the_month_is_unchanged_asks_only_its_database_info(store):
    store.bulk_put(DB, [entry(n, NOW - n) for n in range(100)])
    counted, tops = OneCopy(store), MonthTops()
    first = tops.rows(counted, DB, NOW, NOW - 30 * 86_400, 52)
    again = [tops.rows(counted, DB, NOW + s, NOW + s - 30 * 86_400, 52) for s in range(1, 4)]  # a poll's "now" moves on
    assert [(row.key, row.id) for row in first] == exact(store, NOW, NOW - 30 * 86_400, 52)
    assert all([(row.key, row.id) for row in page] == exact(store, NOW, NOW - 30 * 86_400, 52) for page in again)
    assert (counted.views, counted.infos, tops.hits) == (1, 4, 3)


def test_a_write_to_the_month_is_seen_on_the_next_read(store):
    store.bulk_put(DB, [entry(n, NOW - 10 * n) for n in range(10)])
    counted, tops = OneCopy(store), MonthTops()
    tops.rows(counted, DB, NOW, NOW - 86_400, 52)
    store.put(DB, entry(99, NOW - 5))
    assert ("e00099" in [row.id for row in tops.rows(counted, DB, NOW, NOW - 86_400, 52)]) and tops.hits == 0
    doc = store.get(DB, "e00099")
    store.delete(DB, "e00099", doc["_rev"])
    assert "e00099" not in [row.id for row in tops.rows(counted, DB, NOW, NOW - 86_400, 52)]


def test_a_month_with_several_copies_is_read_as_before_and_its_info_asked_once(store):
    store.bulk_put(DB, [entry(n, NOW - n) for n in range(10)])
    counted, tops = OneCopy(store, copies=3), MonthTops()
    pages = [tops.rows(counted, DB, NOW, NOW - 86_400, 52) for _ in range(3)]
    assert all([(row.key, row.id) for row in page] == exact(store, NOW, NOW - 86_400, 52) for page in pages)
    assert (counted.views, counted.infos, tops.hits) == (3, 1, 0)


def test_rows_beyond_what_was_kept_are_read_from_the_month(store):
    """Entries dated ahead of the range fill the kept rows: the range is read as before."""
    store.bulk_put(DB, [entry(n, NOW + 1000 + n) for n in range(60)] + [entry(100 + n, NOW - n) for n in range(10)])
    counted, tops = OneCopy(store), MonthTops()
    rows = tops.rows(counted, DB, NOW, NOW - 86_400, 52)
    assert [(row.key, row.id) for row in rows] == exact(store, NOW, NOW - 86_400, 52) and len(rows) == 10


def test_a_month_gone_says_so(store):
    counted, tops = OneCopy(store), MonthTops()
    with pytest.raises(DatabaseNotFound):
        tops.rows(counted, "account%2Fab%2Fcd%2Fef0123456789abcdef0123456789-202611", NOW, 0, 52)


def month(store: EmbeddedStore, yyyymm: str, entries: int) -> str:
    db = DB[:-6] + yyyymm
    store.create_database(db)
    store_setup.install_design_docs(store, db, load_design_docs())
    store.bulk_put(db, [entry(n, NOW - n) for n in range(entries)])
    return db


def test_the_least_recently_read_months_are_let_go_first_when_the_rows_are_many(store):
    tops = MonthTops(max_rows=10)
    january, february, march = (month(store, f"2026{m:02d}", 5) for m in (1, 2, 3))
    for db in (january, february, january):  # January read again: the most recently read
        tops.rows(OneCopy(store), db, NOW, 0, 52)
    tops.rows(OneCopy(store), march, NOW, 0, 52)  # 15 rows: February goes
    counted = OneCopy(store)
    for db in (january, march, february):
        tops.rows(counted, db, NOW, 0, 52)
    assert (counted.views, tops.hits) == (1, 3)  # January (again) and March kept, February read


def test_a_range_the_kept_rows_do_not_reach_is_read_once_not_kept_again(store):
    """Entries of the last hours fill the kept rows; a range ending yesterday is read from the
    month, without reading the newest rows again while the month is unchanged."""
    store.bulk_put(DB, [entry(n, NOW - n) for n in range(200)])
    counted, tops = OneCopy(store), MonthTops()
    tops.rows(counted, DB, NOW, NOW - 86_400, 52)
    views = counted.views
    for _ in range(3):
        rows = tops.rows(counted, DB, NOW - 100, NOW - 86_400, 52)
        assert [(row.key, row.id) for row in rows] == exact(store, NOW - 100, NOW - 86_400, 52)
    assert counted.views - views == 3 and tops.hits == 0


def test_a_big_page_is_read_as_before(store):
    store.bulk_put(DB, [entry(n, NOW - n) for n in range(10)])
    counted, tops = OneCopy(store), MonthTops()
    for _ in range(2):
        assert len(tops.rows(counted, DB, NOW, 0, 501)) == 10
    assert (counted.views, counted.infos) == (2, 0)


def test_what_a_caller_changes_is_its_own(store):
    store.put(DB, {**entry(1, NOW), "period": {"start": 1}})
    counted, tops = OneCopy(store), MonthTops()
    tops.rows(counted, DB, NOW, 0, 52)[0].value["period"]["start"] = 999
    assert tops.rows(counted, DB, NOW, 0, 52)[0].value["period"] == {"start": 1} and tops.hits == 1


KEYS = st.one_of(
    st.integers(min_value=NOW - 200, max_value=NOW + 200),
    st.floats(min_value=NOW - 200, max_value=NOW + 200, allow_nan=False),
    st.sampled_from(["", "x", "2026-12-01", True, [1], {"a": 1}]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(KEYS, max_size=40),
    start=st.integers(min_value=NOW - 250, max_value=NOW + 250),
    width=st.integers(min_value=0, max_value=500),
    limit=st.integers(min_value=1, max_value=45),
    writes=st.lists(KEYS, max_size=3),
)
def test_what_is_answered_is_what_the_view_query_answers(tmp_path_factory, keys, start, width, limit, writes):
    store = EmbeddedStore(tmp_path_factory.mktemp("tops") / "s.sqlite3")
    try:
        store.create_database(DB)
        store_setup.install_design_docs(store, DB, load_design_docs())
        store.bulk_put(DB, [entry(n, key) for n, key in enumerate(keys)])
        counted, tops = OneCopy(store), MonthTops()
        for round_, key in enumerate([None, *writes]):
            if key is not None:
                store.put(DB, entry(1000 + round_, key))
            for _ in range(2):  # read, then read again from what was kept
                got = [(row.key, row.id) for row in tops.rows(counted, DB, start, start - width, limit)]
                assert got == exact(store, start, start - width, limit)
    finally:
        store.close()
