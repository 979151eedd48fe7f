"""Transactions a page at a time (crossbar_api/transaction_pages.py), on each store: walking the
pages from the first to the last, each started where the one before said the next begins, gives
every entry of the range exactly once, newest first, however many share a second, however the
months split them, whatever a filter drops, and without a rollover that carried nothing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import StoreUnavailable
from bookkeeper.services.setup.store_setup import install_design_docs
from crossbar_api import transaction_pages
from crossbar_api.csv_rows import entry_rows
from crossbar_api.resources.money import transaction_json
from crossbar_api.transaction_pages import every_entry, newest_first
from testkit.fixtures.kazoo_docs import ledger_doc, new_account_id

pytestmark = pytest.mark.integration
MONTHS = ((2026, 10), (2026, 11))
BASE = 63_940_000_000  # gregorian seconds, the created times sit just above
DESIGN_DOCS = load_design_docs()

entries = st.lists(
    st.tuples(
        st.sampled_from(range(len(MONTHS))),
        st.integers(min_value=0, max_value=6),  # few distinct seconds: many ties
        st.sampled_from(["debit", "credit"]),
        st.integers(min_value=1, max_value=9_999),
        st.sampled_from(["phone", "calls"]),
    ),
    max_size=40,
)


def seeded(store, rows, rollovers: tuple[int, ...]) -> tuple[list[str], list[dict]]:
    account_id, counter = new_account_id(), itertools.count()
    dbs, docs_by_db = [], {}
    for year, month in MONTHS:
        db = account_modb(account_id, year, month)
        store.create_database(db)
        install_design_docs(store, db, DESIGN_DOCS)
        dbs.append(db)
        docs_by_db[db] = []
    for month_index, second, kind, amount, service in rows:
        year, month = MONTHS[month_index]
        doc = ledger_doc(account_id, year, month, f"e{next(counter):03d}", kind, amount, service, BASE + second)
        docs_by_db[dbs[month_index]].append(doc)
    for month_index, amount in enumerate(rollovers):  # Kazoo's rollover: one a month, maybe of nothing
        year, month = MONTHS[month_index]
        doc = ledger_doc(account_id, year, month, "ledgers_monthly_rollover", "credit", amount, "rollover", BASE + 3)
        docs_by_db[dbs[month_index]].append(doc)
    for db, docs in docs_by_db.items():
        if docs:
            store.bulk_put(db, docs)
    return dbs, [doc for docs in docs_by_db.values() for doc in docs]


def every_page(store, dbs, span, page_size, keep) -> list[str]:
    seen, position = [], None
    for _ in range(100):
        page, following = newest_first(store, dbs, span, page_size, position, keep=keep)
        assert len(page) == page_size or following is None  # only the last page is short
        seen += [entry.entry_id for entry in page]
        if following is None:
            return seen
        position = (following.created, following.entry_id)
    raise AssertionError("the pages never ended")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=entries,
    rollovers=st.tuples(st.sampled_from([0, 0, 500]), st.sampled_from([0, 700])),
    page_size=st.integers(min_value=1, max_value=7),
    span=st.tuples(st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=6)).map(sorted),
    only_calls=st.booleans(),
)
def test_walking_the_pages_gives_every_entry_once_newest_first(store, rows, rollovers, page_size, span, only_calls):
    dbs, docs = seeded(store, rows, rollovers)
    keep = (lambda doc: doc["source"]["service"] == "calls") if only_calls else (lambda doc: True)
    created_from, created_to = BASE + span[0], BASE + span[1]
    expected = sorted(
        (
            (doc["pvt_created"], doc["_id"])
            for doc in docs
            if created_from <= doc["pvt_created"] <= created_to
            and keep(doc)
            and not (doc["_id"].endswith("rollover") and doc["amount"] == 0)
        ),
        reverse=True,
    )
    seen = every_page(store, dbs, (created_from, created_to), page_size, keep)
    assert seen == [entry_id for _, entry_id in expected]
    exported = every_entry(store, dbs, (created_from, created_to), keep)  # the CSV export's rows
    assert [doc["_id"] for doc in exported] == [entry_id for _, entry_id in expected]


def test_an_export_read_in_small_chunks_merges_the_months_newest_first(store, monkeypatch):
    monkeypatch.setattr(transaction_pages, "MAX_CHUNK", 3)  # chunk after chunk, each month
    rows = [(n % 2, n % 7, "debit", 100 + n, "calls" if n % 3 else "phone") for n in range(60)]
    dbs, docs = seeded(store, rows, (0, 700))
    expected = sorted(
        ((d["pvt_created"], d["_id"]) for d in docs if not (d["_id"].endswith("rollover") and d["amount"] == 0)),
        reverse=True,
    )
    assert [doc["_id"] for doc in every_entry(store, dbs, (BASE, BASE + 6))] == [i for _, i in expected]


def test_an_export_the_store_fails_fails_before_anything_is_sent(store):
    """The months' first chunks are read when the export is asked for, not once its 200 is sent."""
    dbs, _ = seeded(store, [(0, 1, "debit", 100, "calls")], (500, 0))

    class Unreachable:
        def query_view(self, *args, **kwargs):
            raise StoreUnavailable("http://couch", "connection refused")

    with pytest.raises(StoreUnavailable):
        every_entry(Unreachable(), dbs, (BASE, BASE + 6))


def test_a_filter_that_keeps_few_entries_reads_on_until_the_page_is_full(store):
    """The chunks grow while a filter drops what they hold; the pages still fill, and an entry
    at the edge of a chunk is read once."""
    rows = [(n % 2, n % 7, "debit", 100 + n, "calls" if n % 9 == 0 else "phone") for n in range(300)]
    dbs, docs = seeded(store, rows, (500, 0))
    calls = sorted(((d["pvt_created"], d["_id"]) for d in docs if d["source"]["service"] == "calls"), reverse=True)
    only_calls = lambda doc: doc["source"]["service"] == "calls"  # noqa: E731
    for page_size in (1, 5, 40):
        assert every_page(store, dbs, (BASE, BASE + 6), page_size, only_calls) == [i for _, i in calls]


texts = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8)
scalars = st.one_of(st.none(), st.integers(-(10**9), 10**9), texts, st.booleans())
kazbill_parts = st.dictionaries(
    st.sampled_from(["reason", "code", "category", "item", "quantity", "ratio", "call", "rate", "note", "period"]),
    st.one_of(
        scalars, st.dictionaries(st.sampled_from(["number", "direction", "billed_seconds", "prefix", "name"]), scalars)
    ),
)
entry_shapes = st.lists(
    st.tuples(
        st.sampled_from(["debit", "credit"]),
        st.integers(min_value=0, max_value=9_999),
        st.sampled_from(["per-minute-voip", "payments", "rollover", "phone"]),
        st.one_of(st.none(), kazbill_parts),  # None: Kazoo's own entry, without Kazbill's metadata
        st.sets(st.sampled_from(["description", "period", "usage", "source"])),  # left out of the document
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=entry_shapes)
def test_a_page_read_from_the_index_shows_each_entry_as_its_document_does(store, shapes):
    """A page no longer opens the documents: what `entries_by_created` keeps of an entry must show
    in the API answer and the CSV exactly what the whole document would, whatever it holds."""
    account_id = new_account_id()
    db = account_modb(account_id, 2026, 11)
    store.create_database(db)
    install_design_docs(store, db, DESIGN_DOCS)
    docs = []
    for n, (kind, amount, service, kazbill, missing) in enumerate(shapes):
        doc = ledger_doc(account_id, 2026, 11, f"s{n:03d}", kind, amount, service, BASE + n, kazbill)
        doc["metadata"] = {**doc.get("metadata", {}), "kazoo": {"reseller": "r"}}  # beside Kazbill's, never shown
        docs.append({key: value for key, value in doc.items() if key not in missing})
    store.bulk_put(db, docs)
    page, _ = newest_first(store, [db], (BASE, BASE + len(docs)), len(docs))
    by_id = {doc["_id"]: doc for doc in docs}
    shown = list(page)
    assert {entry.entry_id for entry in shown} == {
        doc["_id"] for doc in docs if not (doc["_id"].endswith("rollover") and doc["amount"] == 0)
    }
    for entry in shown:
        whole = by_id[entry.entry_id]
        assert transaction_json(entry.doc) == transaction_json(whole)
        assert list(entry_rows([entry.doc])) == list(entry_rows([whole]))
    assert [doc["_id"] for doc in every_entry(store, [db], (BASE, BASE + len(docs)))] == [e.entry_id for e in shown]
