"""Next month's database made ahead from the 28th: never before, and a store that fails to make
it fails nothing else (the pass that asked stands; the next crawl tries again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb, to_gregorian_seconds
from bookkeeper.ports import StoreUnavailable
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.months_ahead import prepare_next_month

ACCOUNT = "3f0ad1c2b3a4d5e6f708192a3b4c5d6e"


def at(*when: int) -> int:
    return to_gregorian_seconds(int(datetime(*when, tzinfo=UTC).timestamp()))


class CreationsFail:
    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def ensure_database(self, db):
        raise StoreUnavailable("http://couch", "no answer within 30 s")


@pytest.fixture
def store(tmp_path):
    inner = EmbeddedStore(tmp_path / "k.sqlite3")
    yield inner
    inner.close()


def test_made_from_the_28th_utc_on_and_into_the_next_year(store):
    book = LedgerBook(store, load_design_docs())
    assert prepare_next_month(book, ACCOUNT, at(2026, 12, 27, 23, 59)) is None
    assert prepare_next_month(book, ACCOUNT, at(2026, 12, 31, 23, 0)) == account_modb(ACCOUNT, 2027, 1)
    assert store.database_exists(account_modb(ACCOUNT, 2027, 1))


def test_a_store_that_cannot_make_it_fails_nothing(store):
    book = LedgerBook(CreationsFail(store), load_design_docs())
    assert prepare_next_month(book, ACCOUNT, at(2026, 11, 29)) is None
    assert not store.database_exists(account_modb(ACCOUNT, 2026, 12))
