"""The embedded store runs map functions the way CouchDB does: on a deeply frozen document. A
map that changes its input throws there, the document's rows are dropped, and (unlike CouchDB,
which only logs it) the error is recorded in kazbill_failures with the document and the view."""

from __future__ import annotations

import json

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.ports import ViewQuery

ACCOUNT_DB = "account/ab/cd/" + "e" * 28

MUTATING = {
    "_id": "_design/mutating",
    "language": "javascript",
    "views": {
        "sorted_in_place": {"map": "function(doc) { if (doc.features) emit(doc._id, doc.features.sort()); }"},
        "copied_first": {"map": "function(doc) { if (doc.features) emit(doc._id, doc.features.slice().sort()); }"},
        "assigns": {"map": "function(doc) { doc.extra = 1; emit(doc._id, doc.extra === undefined); }"},
    },
}


@pytest.fixture
def store(tmp_path):
    opened = EmbeddedStore(tmp_path / "maps.sqlite3")
    opened.create_database(ACCOUNT_DB)
    opened.put(ACCOUNT_DB, MUTATING)
    yield opened
    opened.close()


def test_an_in_place_sort_of_a_document_list_drops_that_document_and_is_recorded(store):
    store.bulk_put(
        ACCOUNT_DB,
        [{"_id": "sorted", "features": ["cnam", "local"]}, {"_id": "unsorted", "features": ["local", "cnam"]}],
    )
    rows = store.query_view(ACCOUNT_DB, "mutating", "sorted_in_place").rows
    # Sorting an already sorted frozen array writes nothing, so it passes; the other throws.
    assert [(row.id, row.value) for row in rows] == [("sorted", ["cnam", "local"])]
    failures = store.all_docs("kazbill_failures", ViewQuery(include_docs=True)).rows
    [failure] = [row.doc for row in failures]
    assert failure["reason_code"] == "view_map_error" and failure["source"] == "view"
    assert failure["field"] == "_design/mutating/_view/sorted_in_place"
    assert failure["payload"]["doc_id"] == "unsorted" and failure["payload"]["db"] == ACCOUNT_DB
    assert "read-only" in failure["payload"]["message"]
    assert failure["account_id"] == "abcd" + "e" * 28


def test_a_map_that_copies_before_sorting_answers_every_document(store):
    store.bulk_put(ACCOUNT_DB, [{"_id": "a", "features": ["local", "cnam"]}, {"_id": "b", "features": ["x"]}])
    rows = store.query_view(ACCOUNT_DB, "mutating", "copied_first").rows
    assert [(row.id, row.value) for row in rows] == [("a", ["cnam", "local"]), ("b", ["x"])]
    assert store.get(ACCOUNT_DB, "a")["features"] == ["local", "cnam"]  # the document is untouched
    recorded = [row.doc["field"] for row in store.all_docs("kazbill_failures", ViewQuery(include_docs=True)).rows]
    assert recorded == ["_design/mutating/_view/sorted_in_place"]  # its neighbour in the design document


def test_an_assignment_to_the_document_is_ignored_as_on_couchdb(store):
    # Sloppy-mode JavaScript ignores a write to a frozen object instead of throwing.
    store.put(ACCOUNT_DB, {"_id": "a"})
    assert store.query_view(ACCOUNT_DB, "mutating", "assigns").rows[0].value is True


def test_the_same_error_on_the_same_revision_is_recorded_once(store):
    store.put(ACCOUNT_DB, {"_id": "unsorted", "features": ["b", "a"]})
    store.query_view(ACCOUNT_DB, "mutating", "sorted_in_place")
    store.put(
        ACCOUNT_DB,
        {
            "_id": "_design/mutating",
            **{k: v for k, v in MUTATING.items() if k != "_id"},
            "_rev": store.get(ACCOUNT_DB, "_design/mutating")["_rev"],
            "note": "reindex",
        },
    )
    store.query_view(ACCOUNT_DB, "mutating", "sorted_in_place")  # same signature: nothing re-mapped
    assert store.database_info("kazbill_failures").doc_count == 1


@pytest.mark.parametrize("design", [d for d in load_design_docs()], ids=lambda d: d.design_id)
def test_no_shipped_map_function_changes_the_document_it_is_given(design):
    """Every map in couch_views/ runs on frozen Kazoo-shaped documents with lists in the
    order Kazoo writes them and optional fields missing, and throws on none of them."""
    from bookkeeper.adapters.embedded.js_views import DesignDocViews
    from testkit.fixtures.kazoo_docs import unsorted_kazoo_documents

    views = DesignDocViews(design.design_id, design.body["views"])
    for doc in unsorted_kazoo_documents():
        mapped = views.map_document(json.loads(json.dumps(doc)))
        assert mapped.errors == {}, (design.design_id, doc["_id"], mapped.errors)


def test_every_level_of_the_document_is_frozen():
    """Lists and objects nested in lists and objects, however deep, throw when sorted in place."""
    from bookkeeper.adapters.embedded.js_views import DesignDocViews

    views = DesignDocViews(
        "_design/deep",
        {
            "sorts_deep": {"map": "function(doc) { emit(doc._id, doc.a[0].b.c.sort()); }"},
            "sorts_top": {"map": "function(doc) { emit(doc._id, doc.list.sort()); }"},
        },
    )
    mapped = views.map_document({"_id": "x", "a": [{"b": {"c": [3, 1, 2]}}], "list": ["b", "a"]})
    assert set(mapped.errors) == {"sorts_deep", "sorts_top"}
    assert all("read-only" in message for message in mapped.errors.values())
