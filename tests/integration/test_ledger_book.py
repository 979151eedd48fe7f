"""The ledger across monthly databases, on both stores: rollovers, balances and writes that
happen once, however late or often an entry is replayed."""
from __future__ import annotations

import pytest

from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.services.ledger_book import LedgerBook
from tests.fixtures.kazoo_docs import new_account_id

pytestmark = pytest.mark.integration
NOW = 63_960_710_400


def entry(entry_id: str, ledger_type: str, amount: int) -> dict:
    return {"_id": entry_id, "pvt_type": "ledger", "pvt_ledger_type": ledger_type, "amount": amount,
            "source": {"service": "manual_addition", "id": entry_id},
            "usage": {"type": "manual", "quantity": 1, "unit": "payment"}}


@pytest.fixture
def book(store):
    account_id = new_account_id()
    yield LedgerBook(store, load_design_docs()), account_id
    for db in store.list_databases():
        if account_id[:4] in db.replace("/", "") and db.startswith("account/"):
            store.delete_database(db)


def test_a_new_month_carries_the_previous_months_balance_over(book):
    ledger, account = book
    assert ledger.write(account, [entry("202610-wire-1", "credit", 1_000_000), entry("202610-mrc", "debit", 300_000)],
                        (2026, 10), (2026, 10), NOW) == ["202610-wire-1", "202610-mrc"]
    assert ledger.balance(account, (2026, 10), NOW) == 700_000
    assert ledger.balance(account, (2026, 11), NOW) == 700_000  # only the rollover so far
    rollover = ledger.store.get(account_modb(account, 2026, 11), "202611-ledgers_monthly_rollover")
    assert (rollover["pvt_ledger_type"], rollover["amount"], rollover["source"]["service"]) == ("credit", 700_000, "rollovers")
    ledger.write(account, [entry("202611-mrc", "debit", 900_000)], (2026, 11), (2026, 11), NOW)
    assert ledger.balance(account, (2026, 11), NOW) == -200_000
    assert ledger.balance(account, (2027, 1), NOW) == -200_000  # December had nothing: carried through


def test_an_entry_written_twice_is_written_once(book):
    ledger, account = book
    first = ledger.write(account, [entry("202611-daily-1", "debit", 5)], (2026, 11), (2026, 11), NOW)
    again = ledger.write(account, [entry("202611-daily-1", "debit", 5)], (2026, 11), (2026, 11), NOW)
    assert (first, again) == (["202611-daily-1"], [])
    assert ledger.balance(account, (2026, 11), NOW) == -5


def test_a_late_entry_lands_in_the_current_month_and_its_replay_is_still_already_done(book):
    ledger, account = book
    ledger.write(account, [entry("202610-wire-1", "credit", 1_000)], (2026, 10), (2026, 10), NOW)
    assert ledger.balance(account, (2026, 11), NOW) == 1_000
    # A daily fee of 31 October processed on 1 November: October is closed, so November takes it.
    assert ledger.write(account, [entry("202610-daily-31", "debit", 10)], (2026, 10), (2026, 11), NOW) == ["202610-daily-31"]
    assert ledger.store.get(account_modb(account, 2026, 11), "202610-daily-31")["amount"] == 10
    assert ledger.balance(account, (2026, 11), NOW) == 990
    # Replayed again in December: found in November, not written again.
    assert ledger.write(account, [entry("202610-daily-31", "debit", 10)], (2026, 10), (2026, 12), NOW) == []
    assert ledger.balance(account, (2026, 12), NOW) == 990
