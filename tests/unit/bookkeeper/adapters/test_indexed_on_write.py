"""An index that was up to date takes a write's documents in the write's own transaction
(views.ViewEngine.index_written); one that was not waits for its query. Either way a query
answers what an index built afresh from every document would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import ViewQuery

DB = "account/ab/cd/" + "e" * 28
DESIGN = {
    "_id": "_design/sums",
    "language": "javascript",
    "views": {
        "by_kind": {"map": "function(doc) { if (doc.kind) emit(doc.kind, doc.n); }", "reduce": "_sum"},
        "throws_on_negatives": {"map": "function(doc) { if (doc.n < 0) throw 'negative'; emit(doc._id, 1); }"},
    },
}


def new_store(tmp_path, name="store.sqlite3") -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / name)
    store.create_database(DB)
    store.put(DB, DESIGN)
    return store


def index_rows(store: EmbeddedStore, doc_id: str) -> int:
    return store._db.execute("SELECT COUNT(*) FROM view_rows WHERE db = ? AND doc_id = ?", (DB, doc_id)).fetchone()[0]


def totals(store: EmbeddedStore) -> list:
    return [(row.key, row.value) for row in store.query_view(DB, "sums", "by_kind", ViewQuery(group=True)).rows]


def test_a_queried_index_takes_the_next_write_with_it(tmp_path):
    store = new_store(tmp_path)
    store.put(DB, {"_id": "a", "kind": "call", "n": 5})
    assert totals(store) == [("call", 5)]  # the first query builds the index
    store.bulk_put(DB, [{"_id": "b", "kind": "call", "n": 7}, {"_id": "c", "kind": "fee", "n": 1}])
    assert index_rows(store, "b") == 2 and index_rows(store, "c") == 2  # indexed by the write itself
    assert store._views.is_fresh(DB, "sums", "by_kind")  # the query needs no write transaction
    assert totals(store) == [("call", 12), ("fee", 1)]


def test_an_index_never_queried_waits_for_its_query(tmp_path):
    store = new_store(tmp_path)
    store.put(DB, {"_id": "a", "kind": "call", "n": 5})
    assert index_rows(store, "a") == 0
    assert totals(store) == [("call", 5)]


def test_a_map_that_throws_at_write_time_is_recorded_as_at_query_time(tmp_path):
    store = new_store(tmp_path)
    totals(store)
    store.put(DB, {"_id": "bad", "kind": "call", "n": -3})
    failures = store.query_view(DB, "sums", "throws_on_negatives").rows
    assert [row.id for row in failures] == []  # the document's rows in that view are skipped
    assert totals(store) == [("call", -3)]  # and kept in the other
    recorded = [row.doc["payload"] for row in store.all_docs("kazbill_failures", ViewQuery(include_docs=True)).rows]
    assert [(payload["doc_id"], payload["view"]) for payload in recorded] == [
        ("bad", "_design/sums/_view/throws_on_negatives")
    ]


def test_a_changed_design_document_is_indexed_afresh_at_its_query(tmp_path):
    store = new_store(tmp_path)
    store.put(DB, {"_id": "a", "kind": "call", "n": 5})
    totals(store)
    design = store.get(DB, "_design/sums")
    design["views"]["by_kind"]["map"] = "function(doc) { if (doc.kind) emit(doc.kind, 10 * doc.n); }"
    store.bulk_put(DB, [design, {"_id": "b", "kind": "call", "n": 1}])
    assert totals(store) == [("call", 60)]


writes = st.lists(
    st.tuples(
        st.sampled_from(["d1", "d2", "d3", "d4"]),
        st.one_of(
            st.none(), st.fixed_dictionaries({"kind": st.sampled_from(["call", "fee"]), "n": st.integers(-5, 9)})
        ),
        st.booleans(),  # query after this write
    ),
    max_size=15,
)


@settings(max_examples=40, deadline=None)
@given(writes)
def test_queries_answer_what_an_index_built_afresh_answers(tmp_path_factory, steps):
    store = new_store(tmp_path_factory.mktemp("indexed"))
    for doc_id, body, query_after in steps:
        current = store.get_many(DB, [doc_id]).get(doc_id)
        if body is None:
            if current is not None:
                store.delete(DB, doc_id, current["_rev"])
        else:
            store.bulk_put(DB, [{"_id": doc_id, **body, **({"_rev": current["_rev"]} if current else {})}])
        if query_after:
            totals(store)
    kept = totals(store)
    store._db.execute("DELETE FROM view_state")  # the next query indexes every document again
    assert kept == totals(store)
