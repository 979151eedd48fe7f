"""One billing pass reads each document once, and still sees its own writes."""

from __future__ import annotations

import collections

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.ports import Conflict, DatabaseNotFound, NotFound, ViewQuery
from bookkeeper.services.billing.pass_reads import PassReads, store_identity

DB = "account/3f/0a/d1c2b3a4d5e6f708192a3b4c5d6e"


class Counted:
    def __init__(self, inner):
        self._inner, self.reads = inner, collections.Counter()

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name in ("get", "get_many", "database_exists", "query_view", "list_databases"):

            def counted(*args, **kwargs):
                self.reads[name] += 1
                return attr(*args, **kwargs)

            return counted
        return attr


@pytest.fixture
def store(tmp_path):
    inner = EmbeddedStore(tmp_path / "k.sqlite3")
    inner.create_database(DB)
    inner.put(DB, {"_id": "onbill", "billing_day": 1})
    yield Counted(inner)
    inner.close()


def test_a_document_read_four_times_in_a_pass_is_fetched_once(store):
    reads = PassReads(store)
    assert [reads.get(DB, "onbill")["billing_day"] for _ in range(3)] == [1, 1, 1]
    assert reads.get_many(DB, ["onbill", "limits"]) == {"onbill": reads.get(DB, "onbill")}
    assert reads.database_exists(DB) and reads.database_exists(DB)
    assert store.reads == {"get": 1, "get_many": 1}  # a database that answered a read exists: nothing listed


def test_a_read_that_finds_no_database_is_what_the_pass_knows_from_then_on(store):
    """A month another writer has not created (or has since): the pass's own read said so, and
    that answer, newer than the family's listing, is the one the pass goes by."""
    reads = PassReads(store)
    month = f"{DB}-202611"
    with pytest.raises(DatabaseNotFound):
        reads.get_many(month, ["202611-entry"])
    assert not reads.database_exists(month)
    store._inner.create_database(month)
    assert reads.get_many(month, ["202611-other"]) == {}
    assert reads.database_exists(month)


def test_an_accounts_databases_are_listed_once_for_the_whole_pass(store):
    """A new account's ledger looks back three years of months: one listing answers them all,
    the missing ones included, and a database the pass creates exists from then on."""
    store._inner.create_database(f"{DB}-202603")
    reads = PassReads(store)
    months = [f"{DB}-{year}{month:02d}" for year in (2024, 2025, 2026) for month in range(1, 13)]
    assert [month for month in months if reads.database_exists(month)] == [f"{DB}-202603"]
    assert reads.database_exists(DB)
    assert not reads.database_exists("kazbill_elsewhere") and not reads.database_exists("kazbill_elsewhere")
    assert store.reads == {"list_databases": 1, "database_exists": 1}  # the family once, the other db once
    reads.ensure_database(f"{DB}-202604")
    assert reads.database_exists(f"{DB}-202604")
    reads.delete_database(f"{DB}-202603")
    assert not reads.database_exists(f"{DB}-202603")
    assert store.reads == {"list_databases": 1, "database_exists": 1}


def test_the_pass_sees_its_own_write_and_a_changed_copy_changes_nothing_kept(store):
    reads = PassReads(store)
    shown = reads.get(DB, "onbill")
    shown["billing_day"] = 28  # a caller changing its copy does not change what the pass read
    assert reads.get(DB, "onbill")["billing_day"] == 1
    reads.put(DB, {**reads.get(DB, "onbill"), "billing_day": 15})
    assert reads.get(DB, "onbill")["billing_day"] == 15  # read again after the write
    with pytest.raises(NotFound):
        reads.get(DB, "limits")
    reads.bulk_put(DB, [{"_id": "limits", "twoway_trunks": 2}])
    assert reads.get(DB, "limits")["twoway_trunks"] == 2


def test_a_lost_write_is_forgotten_so_the_retry_reads_the_revision_that_won(store):
    reads = PassReads(store)
    stale = reads.get(DB, "onbill")
    store.put(DB, {**stale, "billing_day": 10})  # someone else, outside the pass
    with pytest.raises(Conflict):
        reads.put(DB, {**stale, "billing_day": 20})
    assert reads.get(DB, "onbill")["billing_day"] == 10


def test_a_missing_database_is_asked_again_by_the_next_pass_and_registries_key_on_the_store_itself(store):
    missing = "account/aa/bb/cccccccccccccccccccccccccccc"
    reads = PassReads(store)
    assert not reads.database_exists(missing) and not reads.database_exists(f"{missing}-202603")
    store._inner.create_database(missing)  # Kazoo creates it meanwhile: seen by the next pass
    assert not reads.database_exists(missing)
    assert PassReads(store).database_exists(missing)
    assert store.reads["list_databases"] == 2
    assert store_identity(PassReads(reads)) is store and store_identity(store) is store


operations = st.lists(
    st.tuples(
        st.sampled_from(["get", "get_many", "put", "delete"]), st.sampled_from(["a", "b", "c"]), st.integers(0, 9)
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_whatever_the_pass_does_it_reads_what_the_store_holds(tmp_path_factory, steps):
    """Invariant: every read through the pass answers what a read of the store answers then."""
    store = EmbeddedStore(tmp_path_factory.mktemp("pass") / "k.sqlite3")
    store.create_database(DB)
    reads = PassReads(store)
    for operation, doc_id, value in steps:
        if operation == "get":
            try:
                assert reads.get(DB, doc_id) == store.get(DB, doc_id)
            except NotFound:
                assert doc_id not in store.get_many(DB, [doc_id])
        elif operation == "get_many":
            assert reads.get_many(DB, [doc_id, "a"]) == store.get_many(DB, [doc_id, "a"])
        elif operation == "put":
            current = store.get_many(DB, [doc_id]).get(doc_id)
            reads.put(DB, {**(current or {"_id": doc_id}), "value": value})
        elif (current := store.get_many(DB, [doc_id]).get(doc_id)) is not None:
            reads.delete(DB, doc_id, current["_rev"])
    store.close()


def test_the_accounts_quantities_are_counted_and_dated_from_one_read_until_the_pass_writes_there(store, tmp_path):
    """On a cluster two reads of the holdings view may come from two copies: a new number
    counted by one and not dated by the other. A pass reads the quantities once; a write to
    the account's database (a cancelled trunk, say) makes the next read go to the store."""
    from bookkeeper.design_docs import load_design_docs
    from bookkeeper.services.setup.store_setup import install_design_docs

    install_design_docs(store._inner, DB, load_design_docs())
    reads = PassReads(store)
    first = reads.query_view(DB, "kazbill_quantities", "holdings")
    store._inner.put(DB, {"_id": "device1", "pvt_type": "device", "device_type": "sip_device", "enabled": True})
    assert reads.query_view(DB, "kazbill_quantities", "holdings").rows == first.rows
    assert store.reads["query_view"] == 1
    reads.query_view(DB, "kazbill_users", "admin_emails")  # any other view: always the store's
    reads.query_view(DB, "kazbill_users", "admin_emails")
    assert store.reads["query_view"] == 3
    reads.put(DB, {"_id": "limits", "twoway_trunks": 0})
    reads.query_view(DB, "kazbill_quantities", "holdings")
    assert store.reads["query_view"] == 4


def test_either_spelling_of_a_database_is_one_database_and_now_asks_the_store(store):
    """`account%2F…` and `account/…` name one database; database_exists_now asks the store even
    where the pass has an answer (the months around now), and keeps what it hears."""
    month = f"{DB}-202612"
    reads = PassReads(store)
    assert not reads.database_exists(month.replace("/", "%2F"))
    reads.ensure_database(month)
    assert reads.database_exists(month.replace("/", "%2F")) and reads.database_exists(month)
    other = f"{DB}-202701"
    assert not reads.database_exists(other)
    store._inner.create_database(other)  # created by another writer while the pass runs
    assert not reads.database_exists(other) and reads.database_exists_now(other)
    assert reads.database_exists(other)


def test_the_next_pass_lists_nothing_for_months_the_process_has_seen(store):
    month = f"{DB}-202611"
    store._inner.create_database(month)
    assert PassReads(store).database_exists(month)
    assert store.reads["list_databases"] == 1
    later = PassReads(store)
    assert later.database_exists(month) and later.database_exists(DB)
    assert store.reads["list_databases"] == 1  # known to exist: not listed again
    assert not later.database_exists(f"{DB}-202612")  # a month never seen is still asked about
    assert store.reads["list_databases"] == 2


def test_a_database_deleted_behind_the_process_is_forgotten_by_the_first_request_that_finds_it_gone(store):
    """Kazoo deletes an account's databases with the account: the next pass still thinks the
    month exists, its first read says otherwise, and the pass after that asks afresh."""
    month = f"{DB}-202611"
    store._inner.create_database(month)
    assert PassReads(store).database_exists(month)
    store._inner.delete_database(month)
    stale = PassReads(store)
    assert stale.database_exists(month)
    with pytest.raises(DatabaseNotFound):
        stale.query_view(month, "kazbill_ledgers", "balance_by_service")
    assert not stale.database_exists(month)
    assert not PassReads(store).database_exists(month)


BY_PERIOD = {
    "_id": "_design/periods",
    "language": "javascript",
    "views": {"by_period": {"map": "function(doc) { if (doc.period) emit([doc.period, doc.item], null); }"}},
}


def _periods(store, *entries):
    store._inner.put(DB, BY_PERIOD)
    store._inner.bulk_put(DB, [{"_id": f"e{n}", "period": p, "item": i} for n, (p, i) in enumerate(entries)])


def ids(rows):
    return sorted(row.id for row in rows)


def test_a_period_read_with_the_one_asked_next_costs_one_query_and_each_answers_as_alone(store):
    _periods(store, ("2026-11-01", "a"), ("2026-11-15", "x"), ("2026-12-01", "a"), ("2026-12-01", "b"))
    reads = PassReads(store)
    assert ids(reads.rows_under(DB, "periods", "by_period", "2026-11-01", ["2026-12-01"])) == ["e0"]
    assert ids(reads.rows_under(DB, "periods", "by_period", "2026-12-01")) == ["e2", "e3"]  # kept: no query
    assert store.reads["query_view"] == 1
    assert ids(reads.rows_under(DB, "periods", "by_period", "2026-12-01")) == ["e2", "e3"]  # again: afresh
    assert store.reads["query_view"] == 2
    alone = PassReads(store)  # what each read alone answers: the same rows, a period in between left out
    assert ids(alone.rows_under(DB, "periods", "by_period", "2026-11-15")) == ["e1"]
    assert all(
        row.doc and row.doc["_id"] == row.id for row in alone.rows_under(DB, "periods", "by_period", "2026-11-01")
    )


def test_what_was_read_ahead_is_dropped_once_the_pass_writes_to_that_database(store):
    _periods(store, ("2026-11-01", "a"), ("2026-12-01", "a"))
    reads = PassReads(store)
    reads.rows_under(DB, "periods", "by_period", "2026-11-01", ["2026-12-01"])
    reads.put(DB, {"_id": "e9", "period": "2026-12-01", "item": "opening"})  # the opening's entry
    assert ids(reads.rows_under(DB, "periods", "by_period", "2026-12-01")) == ["e1", "e9"]
    assert store.reads["query_view"] == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(
        st.tuples(st.sampled_from(["2026-10-01", "2026-11-01", "2026-11-20", "2026-12-01"]), st.text("ab", max_size=2)),
        max_size=8,
    ),
    first=st.sampled_from(["2026-10-01", "2026-11-01", "2026-12-01"]),
    then=st.lists(st.sampled_from(["2026-09-01", "2026-11-01", "2026-12-01"]), max_size=2),
)
def test_read_ahead_or_not_every_period_reads_what_it_holds(store, entries, first, then):
    if not store._inner.get_many(DB, ["_design/periods"]):  # (the store outlives each example)
        store._inner.put(DB, BY_PERIOD)
    docs = [
        {"_id": f"h{len(entries)}-{n}-{first}-{''.join(then)}", "period": p, "item": i}
        for n, (p, i) in enumerate(entries)
    ]
    store._inner.bulk_put(DB, docs)
    reads, alone = PassReads(store), PassReads(store)
    for key in [first, *then]:
        got = reads.rows_under(DB, "periods", "by_period", key, then if key == first else ())
        assert ids(got) == ids(alone.query_view(DB, "periods", "by_period", _under(key)).rows)


def _under(key):
    return ViewQuery(start_key=[key], end_key=[key, {}], include_docs=True)


def test_what_was_read_ahead_is_not_served_after_the_pass_heard_anything_newer(store):
    """Another process (the API reconciles too) opens the current period between the pass's
    read-ahead and its read of that period: the pass reads the new marker fresh, or loses the
    race on it writing its own, and must then read the period's entries as they are now, not as
    they were read ahead, or it would charge the opening again."""
    _periods(store, ("2026-01-01", "a"))
    other_month = f"{DB}-202602"
    store._inner.create_database(other_month)
    for learn_something_newer in (
        lambda reads: reads.get_many(other_month, ["202602-kazbill-period-20260201"]),  # its marker, fresh
        lambda reads: reads.put(other_month, {"_id": "ours"}),  # our marker, written (or refused)
        lambda reads: reads.database_exists_now(other_month),
    ):
        reads = PassReads(store)
        reads.rows_under(DB, "periods", "by_period", "2026-01-01", ["2026-02-01"])
        store._inner.put(DB, {"_id": f"opened-{len(store.reads)}-{id(reads)}", "period": "2026-02-01", "item": "a"})
        learn_something_newer(reads)
        rows = reads.rows_under(DB, "periods", "by_period", "2026-02-01")
        assert [row.id for row in rows if row.id.startswith("opened-")], "the opening's entry was missed"
        store._inner.bulk_put(DB, [{"_id": row.id, "_rev": row.doc["_rev"], "_deleted": True} for row in rows])
