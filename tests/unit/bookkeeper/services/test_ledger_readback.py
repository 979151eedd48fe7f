"""A month's total read right after a write, when the copy answering the view has not got the
write yet (a CouchDB cluster's third copy, a moment behind): the rollover and the balance still
count every entry this process wrote. The lagging copy is simulated over the embedded store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb, to_gregorian_seconds
from bookkeeper.ports import ViewQuery, ViewResult, ViewRow
from bookkeeper.services.billing import ledger_readback
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.ledger_readback import ledger_total, remember_written
from bookkeeper.services.setup.store_setup import install_design_docs

ACCOUNT = "3f0ad1c2b3a4d5e6f708192a3b4c5d6e"


def at(*when: int) -> int:
    return to_gregorian_seconds(int(datetime(*when, tzinfo=UTC).timestamp()))


class LaggingCopy:
    """The store as a cluster shows it: three copies per document, and views answered by a copy
    that has none of the ledger entries written since `lag()` was called."""

    def __init__(self, inner: EmbeddedStore):
        self._inner, self.lagging, self._behind = inner, False, set()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def lag(self) -> None:
        self.lagging = True

    def database_info(self, db):
        return replace(self._inner.database_info(db), copies=3)

    def bulk_put(self, db, docs):
        results = self._inner.bulk_put(db, docs)
        if self.lagging:
            self._behind |= {result.id for result in results if result.ok}
        return results

    def query_view(self, db, design, view, query=ViewQuery()):
        if view not in ("balance_by_created", "balance_by_service"):
            return self._inner.query_view(db, design, view, query)
        rows = [
            row
            for row in self._inner.query_view(db, design, view, replace(query, reduce=False)).rows
            if row.id not in self._behind
        ]
        if query.reduce is False:
            return ViewResult(rows, len(rows))
        return ViewResult([ViewRow(None, sum(row.value for row in rows))] if rows else [])


def entry(entry_id: str, ledger_type: str, amount: int, created: int) -> dict:
    return {
        "_id": entry_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "pvt_created": created,
        "source": {"service": "manual_addition", "id": entry_id},
    }


def lagging_book(tmp_path) -> tuple[LedgerBook, LaggingCopy]:
    store = LaggingCopy(EmbeddedStore(tmp_path / "k.sqlite3"))
    return LedgerBook(store, load_design_docs()), store


def test_the_rollover_carries_a_debit_written_a_moment_before_the_copy_has_it(tmp_path):
    book, store = lagging_book(tmp_path)
    book.write(ACCOUNT, [entry("202611-wire", "credit", 1_000_000, at(2026, 11, 2))], (2026, 11), at(2026, 11, 2))
    store.lag()  # from here on, the copy answering the views is behind
    last_minute = at(2026, 11, 30, 23, 58)
    book.write(ACCOUNT, [entry("202611-mrc", "debit", 300_000, last_minute)], (2026, 11), last_minute)
    assert book.current_balance(ACCOUNT, last_minute) == 700_000
    first_of_december = at(2026, 12, 1, 0, 1)
    assert LedgerBook(store, load_design_docs()).current_balance(ACCOUNT, first_of_december) == 700_000
    rollover = store.get(account_modb(ACCOUNT, 2026, 12), "202612-ledgers_monthly_rollover")
    assert (rollover["pvt_ledger_type"], rollover["amount"]) == ("credit", 700_000)


def test_on_one_copy_nothing_is_remembered_and_a_total_is_one_query(tmp_path):
    store = EmbeddedStore(tmp_path / "k.sqlite3")
    book = LedgerBook(store, load_design_docs())
    book.write(ACCOUNT, [entry("202611-mrc", "debit", 300_000, at(2026, 11, 5))], (2026, 11), at(2026, 11, 5))
    assert book.current_balance(ACCOUNT, at(2026, 11, 5)) == -300_000
    assert store not in ledger_readback._RECENT


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["credit", "debit"]), st.integers(1, 10**9), st.integers(0, 40 * 86_400), st.booleans()
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_total_counts_every_entry_written_whatever_the_copy_has(tmp_path_factory, entries):
    """Invariant: the total is the signed sum of every entry written, whichever of them the
    copy answering is still missing (those written in the last few minutes, dated however far
    back: a late entry keeps the day it is for)."""
    store = LaggingCopy(EmbeddedStore(tmp_path_factory.mktemp("lag") / "k.sqlite3"))
    db = account_modb(ACCOUNT, 2026, 11)
    store.create_database(db)
    install_design_docs(store, db, load_design_docs())
    now = at(2026, 11, 20)
    expected = 0
    for n, (kind, amount, age, behind) in enumerate(entries):
        doc = entry(f"202611-e{n}", kind, amount, now - age)
        if behind:
            store.lag()
        store.bulk_put(db, [doc])
        remember_written(store, db, [doc], now)
        expected += amount if kind == "credit" else -amount
    assert ledger_total(store, db, now) == expected
