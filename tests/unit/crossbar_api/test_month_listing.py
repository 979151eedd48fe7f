"""The transactions pages ask which months of their range have a ledger database: a past month
found without one is not asked about again for a minute (a young account's every page cost a
listing of its databases); a month that may still get one is always asked."""

from __future__ import annotations

from datetime import UTC, datetime

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db, account_modb, gregorian_of
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.pass_reads import PassReads
from crossbar_api.month_listing import ABSENT_FOR_S, AbsentMonths

ACCOUNT = "a" * 32
DESIGN_DOCS = load_design_docs()


class CountedListings(EmbeddedStore):
    listings = 0

    def list_databases(self, prefix: str = "") -> list[str]:
        self.listings += 1
        return super().list_databases(prefix)


def store_with_months(tmp_path, *months) -> CountedListings:
    store = CountedListings(tmp_path / "store.sqlite3")
    store.create_database(account_db(ACCOUNT))
    for month in months:
        store.create_database(account_modb(ACCOUNT, *month))
    return store


def listed(store, absent: AbsentMonths, now: datetime, at: float, months=((2026, 11), (2026, 12))) -> list[str]:
    book = LedgerBook(PassReads(store), DESIGN_DOCS)  # a request's own, as the resource makes it
    return absent.month_dbs(book, ACCOUNT, list(months), gregorian_of(now), at)


def test_a_past_month_without_a_database_is_not_listed_again_for_a_minute(tmp_path):
    store, absent = store_with_months(tmp_path, (2026, 12)), AbsentMonths()
    now = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    assert listed(store, absent, now, at=100.0) == [account_modb(ACCOUNT, 2026, 12)]
    assert store.listings == 1
    assert listed(store, absent, now, at=100.0 + ABSENT_FOR_S - 1) == [account_modb(ACCOUNT, 2026, 12)]
    assert store.listings == 1  # November remembered absent, December known to exist
    store.create_database(account_modb(ACCOUNT, 2026, 11))  # an import made it after all
    assert listed(store, absent, now, at=100.0 + ABSENT_FOR_S) == [
        account_modb(ACCOUNT, 2026, 11),
        account_modb(ACCOUNT, 2026, 12),
    ]


def test_a_month_that_may_still_get_a_database_is_always_asked(tmp_path):
    # 1 December: November ended less than two days ago (a margin for clocks and late writers),
    # and the current month gets its database with its first charge.
    store, absent = store_with_months(tmp_path), AbsentMonths()
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert listed(store, absent, now, at=100.0) == []
    store.create_database(account_modb(ACCOUNT, 2026, 11))
    store.create_database(account_modb(ACCOUNT, 2026, 12))
    assert listed(store, absent, now, at=101.0) == [account_modb(ACCOUNT, 2026, 11), account_modb(ACCOUNT, 2026, 12)]
