"""The embedded store writes a batch of documents with one lookup of their revisions and
attachments and one step of the sequence (doc_writes.py): a batch answers and stores exactly
what the same documents written one by one would, conflicts and repeated ids included."""

from __future__ import annotations

import base64
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import Conflict, ViewQuery

DB = "account/ab/cd/" + "e" * 28
_stores = itertools.count()


def new_store(tmp_path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / f"store-{next(_stores)}.sqlite3")
    store.create_database(DB)
    return store


def stored(store: EmbeddedStore) -> list[tuple]:
    return store._db.execute("SELECT id, rev, deleted, body FROM docs WHERE db = ? ORDER BY seq", (DB,)).fetchall()


def test_a_batch_with_conflicts_and_a_repeated_id_worked_example(tmp_path):
    store = new_store(tmp_path)
    (first,) = store.bulk_put(DB, [{"_id": "a", "n": 1}])
    results = store.bulk_put(
        DB,
        [
            {"_id": "a", "n": 2},  # no revision for a document that exists: refused
            {"_id": "a", "_rev": first.rev, "n": 3},  # written: a's second revision
            {"_id": "a", "_rev": first.rev, "n": 4},  # the first revision is stale now: refused
            {"_id": "b", "_rev": "1-0123", "n": 5},  # a revision for a document that never was: refused
            {"_id": "c", "n": 6},
        ],
    )
    assert [(r.id, r.error) for r in results] == [
        ("a", "conflict"),
        ("a", None),
        ("a", "conflict"),
        ("b", "conflict"),
        ("c", None),
    ]
    assert results[1].rev is not None and results[1].rev.startswith("2-")
    assert store.get(DB, "a")["n"] == 3
    # Refused documents take no place in the feed; the written ones are in write order.
    changes = store.changes(DB, "0").changes
    assert [change.id for change in changes] == ["a", "c"]


def test_attachments_named_by_stubs_stay_and_those_left_out_go(tmp_path):
    store = new_store(tmp_path)
    data = base64.b64encode(b"invoice").decode()
    (with_file,) = store.bulk_put(DB, [{"_id": "doc", "_attachments": {"a.pdf": {"content_type": "x", "data": data}}}])
    (kept,) = store.bulk_put(DB, [{"_id": "doc", "_rev": with_file.rev, "_attachments": {"a.pdf": {"stub": True}}}])
    assert store.get_attachment(DB, "doc", "a.pdf").data == b"invoice"
    (dropped,) = store.bulk_put(DB, [{"_id": "doc", "_rev": kept.rev}])
    assert dropped.error is None
    assert "_attachments" not in store.get(DB, "doc")


ids = st.sampled_from(["a", "b", "c"])
# How a write names its revision: none, the document's current one (if any), or a made-up one.
rev_choices = st.sampled_from(["none", "current", "stale"])
writes = st.lists(
    st.tuples(ids, rev_choices, st.integers(0, 9), st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prior=writes, batch=writes)
def test_a_batch_stores_what_the_same_writes_one_by_one_store(tmp_path, prior, batch):
    batched, single = new_store(tmp_path), new_store(tmp_path)

    def docs(plan, current):
        made = []
        for doc_id, rev_choice, n, deleted in plan:
            doc = {"_id": doc_id, "n": n}
            if deleted:
                doc["_deleted"] = True
            if rev_choice == "current" and doc_id in current:
                doc["_rev"] = current[doc_id]
            elif rev_choice == "stale":
                doc["_rev"] = "1-00000000000000000000000000000000"
            made.append(doc)
        return made

    def revisions(store):
        return {doc_id: rev for doc_id, rev, _, _ in stored(store)}

    for store in (batched, single):
        store.bulk_put(DB, docs(prior, {}))
    # The revisions named are those before the batch, as a client holding them would name them.
    planned = docs(batch, revisions(batched))
    batch_results = [(r.id, r.rev, r.error) for r in batched.bulk_put(DB, planned)]
    single_results = []
    for doc in planned:
        try:
            written = single.put(DB, doc)
        except Conflict:
            single_results.append((doc["_id"], None, "conflict"))
        else:
            single_results.append((written.id, written.rev, None))
    assert batch_results == single_results
    assert stored(batched) == stored(single)
    assert batched.all_docs(DB, ViewQuery()).rows == single.all_docs(DB, ViewQuery()).rows
