"""The embedded store maps documents a hundred at a time, each handed over as its stored JSON
text, and takes each emitted row's JSON text from the engine: what it indexes must be what
mapping each document alone gives, and a map that runs away on one document of a batch costs
that document its rows, not its neighbours."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore, js_views
from bookkeeper.adapters.embedded.js_views import DesignDocViews, document_text
from bookkeeper.ports import ViewQuery

ACCOUNT_DB = "account/ab/cd/" + "e" * 28

VIEWS = {
    "whole": {"map": "function(doc) { emit(doc._id, doc); }"},
    "pairs": {"map": "function(doc) { if (doc.a !== undefined) emit([doc.a, doc.b], doc.n); }"},
    "nothing_given": {"map": "function(doc) { emit(); emit(doc.missing, function() {}); }"},
    "throws_on_lists": {"map": "function(doc) { if (isArray(doc.a)) throw 'a list'; emit(doc.a, 1); }"},
}

# JavaScript numbers are doubles (on CouchDB too): integers are exact up to 2**53.
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {"a": json_values, "b": json_values, "n": st.integers(-(2**40), 2**40)},
    optional={"extra": json_values},
)


@settings(max_examples=60, deadline=None)
@given(st.lists(documents, min_size=1, max_size=12))
def test_a_batch_maps_as_each_document_alone_and_each_row_comes_with_its_own_text(docs):
    engine = DesignDocViews("_design/check", VIEWS)
    named = [{"_id": f"doc{n}", "_rev": "1-x", **doc} for n, doc in enumerate(docs)]
    batched = engine.map_documents([(doc["_id"], json.dumps(doc, separators=(",", ":"))) for doc in named])
    assert batched == [engine.map_document(doc) for doc in named]
    for doc, mapped in zip(named, batched, strict=True):
        assert ("throws_on_lists" in mapped.errors) == isinstance(doc["a"], list)
        [whole] = mapped.rows["whole"]
        assert whole[1] == doc and json.loads(whole[3]) == doc
        for key, value, key_text, value_text in [row for rows in mapped.rows.values() for row in rows]:
            assert json.loads(key_text) == key and json.loads(value_text) == value
        # emit() and an undefined key or value index as null, as CouchDB does
        assert [(key, value) for key, value, *_ in mapped.rows["nothing_given"]] == [(None, None), (None, None)]


def test_a_map_that_runs_away_on_one_document_costs_only_that_document_its_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(js_views, "MAP_TIME_LIMIT_S", 1)
    store = EmbeddedStore(tmp_path / "maps.sqlite3")
    store.create_database(ACCOUNT_DB)
    store.put(
        ACCOUNT_DB,
        {
            "_id": "_design/slow",
            "language": "javascript",
            "views": {"spins": {"map": "function(doc) { while (doc.spin) {} emit(doc._id, doc.n); }"}},
        },
    )
    store.bulk_put(
        ACCOUNT_DB,
        [{"_id": f"d{n}", "n": n} for n in range(5)] + [{"_id": "runaway", "spin": True, "n": 99}],
    )
    rows = store.query_view(ACCOUNT_DB, "slow", "spins").rows
    assert [(row.id, row.value) for row in rows] == [(f"d{n}", n) for n in range(5)]
    failures = [row.doc for row in store.all_docs("kazbill_failures", ViewQuery(include_docs=True)).rows]
    assert [(f["payload"]["doc_id"], f["field"]) for f in failures] == [("runaway", "_design/slow/_view/spins")]
    assert "interrupted" in failures[0]["payload"]["message"]
    store.close()


def test_a_document_with_no_body_beside_its_id_is_mapped_with_its_id_and_revision(tmp_path):
    store = EmbeddedStore(tmp_path / "maps.sqlite3")
    store.create_database(ACCOUNT_DB)
    store.put(ACCOUNT_DB, {"_id": "_design/check", "language": "javascript", "views": VIEWS})
    rev = store.put(ACCOUNT_DB, {"_id": "empty"}).rev
    [row] = store.query_view(ACCOUNT_DB, "check", "whole").rows
    assert row.value == {"_id": "empty", "_rev": rev}
    store.close()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda text: not text.startswith("_")), json_values)
def test_any_id_reaches_the_map_functions_as_stored(doc_id, value):
    body = json.dumps({"v": value}, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(document_text(doc_id, "3-abc", body)) == {"_id": doc_id, "_rev": "3-abc", "v": value}
    assert json.loads(document_text(doc_id, "1-x", "{}")) == {"_id": doc_id, "_rev": "1-x"}
