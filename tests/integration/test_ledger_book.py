"""The ledger across Kazoo's monthly databases, on both stores: every entry goes into the UTC
month it is written in, with that month's prefix; rollovers as Kazoo writes them; writes that
happen once however late or often an entry is replayed; and the midnight race closed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_months import rollover_document
from bookkeeper.domain.kazoo_names import account_modb, to_gregorian_seconds
from bookkeeper.services.audit.charges import rollover_differences
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.months_ahead import prepare_next_month
from bookkeeper.services.billing.pass_reads import PassReads
from testkit.fixtures.kazoo_docs import new_account_id
from testkit.support.kazoo_rules import kazoo_balance
from tests.integration.test_pass_requests import ReadsNamed

pytestmark = pytest.mark.integration


def at(*when: int) -> int:
    return to_gregorian_seconds(int(datetime(*when, tzinfo=UTC).timestamp()))


OCTOBER, NOVEMBER, DECEMBER = at(2026, 10, 20, 12), at(2026, 11, 20, 12), at(2026, 12, 20, 12)


def entry(entry_id: str, ledger_type: str, amount: int) -> dict:
    return {
        "_id": entry_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "source": {"service": "manual_addition", "id": entry_id},
        "usage": {"type": "manual", "quantity": 1, "unit": "payment"},
    }


@pytest.fixture
def book(store):
    account_id = new_account_id()
    yield LedgerBook(store, load_design_docs()), account_id
    for db in store.list_databases():
        if account_id[:4] in db.replace("/", "") and db.startswith("account/"):
            store.delete_database(db)


def test_a_new_month_carries_the_previous_months_balance_over_as_kazoo_does(book):
    ledger, account = book
    assert ledger.write(
        account,
        [entry("202610-wire-1", "credit", 1_000_000), entry("202610-mrc", "debit", 300_000)],
        (2026, 10),
        OCTOBER,
    ) == ["202610-wire-1", "202610-mrc"]
    first = ledger.store.get(account_modb(account, 2026, 10), "202610-ledgers_monthly_rollover")
    assert (first["pvt_ledger_type"], first["amount"]) == ("credit", 0)  # the first month rolls over zero
    assert ledger.current_balance(account, OCTOBER) == 700_000
    assert ledger.current_balance(account, NOVEMBER) == 700_000  # only the rollover so far
    rollover = ledger.store.get(account_modb(account, 2026, 11), "202611-ledgers_monthly_rollover")
    assert (rollover["pvt_ledger_type"], rollover["amount"], rollover["source"]) == (
        "credit",
        700_000,
        {"service": "rollovers", "id": "202611"},
    )
    assert rollover["account"]["id"] == account and isinstance(rollover["period"]["start"], int)
    ledger.write(account, [entry("202611-mrc-november", "debit", 900_000)], (2026, 11), NOVEMBER)
    assert ledger.current_balance(account, NOVEMBER) == -200_000
    assert ledger.current_balance(account, at(2027, 1, 2)) == -200_000  # December had nothing: carried through
    assert kazoo_balance(ledger.store, account, datetime(2027, 1, 2, tzinfo=UTC)) == -200_000


def test_an_entry_written_twice_is_written_once(book):
    ledger, account = book
    first = ledger.write(account, [entry("202611-daily-1", "debit", 5)], (2026, 11), NOVEMBER)
    again = ledger.write(account, [entry("202611-daily-1", "debit", 5)], (2026, 11), NOVEMBER)
    assert (first, again) == (["202611-daily-1"], [])
    assert ledger.current_balance(account, NOVEMBER) == -5


def test_a_replay_into_the_month_holding_it_is_refused_by_its_id_without_reading_the_month_first(book):
    ledger, account = book
    daily = [entry("202611-daily-1", "debit", 5), entry("202611-daily-2", "debit", 7)]
    assert ledger.write(account, daily, (2026, 11), NOVEMBER) == ["202611-daily-1", "202611-daily-2"]
    november = account_modb(account, 2026, 11)
    voided = ledger.store.get(november, "202611-daily-2")
    ledger.store.put(november, {**voided, "pvt_deleted": True})  # voided by hand: it stays voided
    noted = ReadsNamed(ledger.store)
    again = LedgerBook(noted, load_design_docs()).write(
        account, [*daily, entry("202611-daily-3", "debit", 1)], (2026, 11), NOVEMBER
    )
    assert again == ["202611-daily-3"]
    asked = [(db, doc_id) for db, doc_ids in noted.asked for doc_id in doc_ids]
    assert [doc_id for _, doc_id in asked if doc_id.startswith("202611-daily")] == []
    assert {db for db, doc_id in asked if doc_id.startswith("202610-daily")} == {account_modb(account, 2026, 10)}
    assert ledger.current_balance(account, NOVEMBER) == -6


def test_a_late_entry_takes_the_current_months_prefix_and_its_replay_is_still_already_done(book):
    ledger, account = book
    ledger.write(account, [entry("202610-wire-1", "credit", 1_000)], (2026, 10), OCTOBER)
    assert ledger.current_balance(account, NOVEMBER) == 1_000
    # A daily fee of 31 October processed on 20 November: October is rolled over, so November
    # takes it, under November's prefix (kazoo_modb:open_doc finds a document by its prefix).
    assert ledger.write(account, [entry("202610-daily-31", "debit", 10)], (2026, 10), NOVEMBER) == ["202611-daily-31"]
    assert ledger.store.get(account_modb(account, 2026, 11), "202611-daily-31")["amount"] == 10
    assert ledger.current_balance(account, NOVEMBER) == 990
    # Replayed again in December: found in November, not written again.
    assert ledger.write(account, [entry("202610-daily-31", "debit", 10)], (2026, 10), DECEMBER) == []
    assert ledger.current_balance(account, DECEMBER) == 990


def test_an_early_entry_goes_into_the_utc_month_that_is_running(book):
    """A Moscow reseller opens December at 00:05 on the 1st, 21:05 UTC on 30 November: Kazoo's
    balance is still November's, so that is where the charge goes, and December carries it."""
    ledger, account = book
    moscow_midnight = at(2026, 11, 30, 21, 5)
    assert ledger.write(
        account, [entry("202612-kazbill-mrc-20261201-x", "debit", 300)], (2026, 12), moscow_midnight
    ) == ["202611-kazbill-mrc-20261201-x"]
    assert ledger.current_balance(account, moscow_midnight) == -300
    assert kazoo_balance(ledger.store, account, datetime(2026, 11, 30, 21, 6, tzinfo=UTC)) == -300
    assert kazoo_balance(ledger.store, account, datetime(2026, 12, 1, 0, 1, tzinfo=UTC)) == -300
    assert (
        ledger.write(account, [entry("202612-kazbill-mrc-20261201-x", "debit", 300)], (2026, 12), at(2026, 12, 1, 3))
        == []
    )


def test_next_month_is_made_ahead_from_the_28th_empty_and_both_balances_carry_into_it(book):
    """As Kazoo's kt_modb_creation does: made on the 28th (UTC), with Kazbill's views and no
    rollover; what November is owed after that still reaches December, in Kazoo's balance and
    in Kazbill's (kz_ledgers:total_sources writes the rollover a month without one lacks)."""
    ledger, account = book
    ledger.write(account, [entry("202611-wire", "credit", 500)], (2026, 11), NOVEMBER)
    december = account_modb(account, 2026, 12)
    assert prepare_next_month(ledger, account, at(2026, 11, 27, 23, 59)) is None
    assert not ledger.store.database_exists(december)
    assert prepare_next_month(ledger, account, at(2026, 11, 28, 0, 1)) == december
    assert ledger.store.get(december, "_design/kazbill_ledgers")["views"]["balance_by_service"]
    assert [row.id for row in ledger.store.all_docs(december).rows if not row.id.startswith("_design/")] == []
    assert prepare_next_month(ledger, account, at(2026, 11, 29, 0, 1)) == december  # again: nothing new
    ledger.write(account, [entry("202611-late-fee", "debit", 200)], (2026, 11), at(2026, 11, 30, 23, 59))
    assert kazoo_balance(ledger.store, account, datetime(2026, 12, 1, 0, 1, tzinfo=UTC)) == 300
    assert ledger.current_balance(account, at(2026, 12, 1, 0, 2)) == 300


def test_a_rollover_kazoo_wrote_is_kept(book):
    ledger, account = book
    ledger.write(account, [entry("202611-wire", "credit", 500)], (2026, 11), NOVEMBER)
    db = account_modb(account, 2026, 12)
    ledger.store.ensure_database(db)
    ledger.store.put(db, rollover_document(account, "", (2026, 12), 500, db, at(2026, 12, 1)))
    kazoo_rollover = ledger.store.get(db, "202612-ledgers_monthly_rollover")
    assert ledger.current_balance(account, at(2026, 12, 1, 1)) == 500
    assert ledger.store.get(db, "202612-ledgers_monthly_rollover")["_rev"] == kazoo_rollover["_rev"]


def test_a_payment_racing_the_midnight_rollover_is_carried_into_the_new_month(book, tmp_path):
    """Forced interleaving: one process reads November's total to roll it over, another writes a
    payment into November at 23:59:59.5 UTC, then the first writes December's rollover without it.
    The payment is in neither balance until Kazbill's next look at December carries it over; the
    audit's comparison of each rollover with the month it closes names the gap until then."""
    ledger, account = book
    ledger.write(account, [entry("202611-wire-1", "credit", 1_000)], (2026, 11), NOVEMBER)
    stale_total = ledger.month_total(account_modb(account, 2026, 11))  # the rollover's reading
    ledger.write(account, [entry("202611-wire-2", "credit", 250)], (2026, 11), at(2026, 11, 30, 23, 59, 59))
    december = account_modb(account, 2026, 12)
    ledger.store.ensure_database(december)
    ledger.store.put(december, rollover_document(account, "", (2026, 12), stale_total, december, at(2026, 12, 1)))
    assert kazoo_balance(ledger.store, account, datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC)) == 1_000
    assert ledger.carried_into(account, (2026, 12)) == 1_000  # what the audit compares with November's 1,250
    ports = BillingPorts(ledger.store, SettableClock(datetime(2026, 12, 1, tzinfo=UTC)), ledger.design_docs)
    [gap] = rollover_differences(ports, account, date(2026, 11, 1), date(2026, 11, 30))
    assert (gap.entry_id, gap.kind, gap.expected, gap.actual) == (
        "202612-ledgers_monthly_rollover",
        "rollover",
        1_250,
        1_000,
    )
    fresh = LedgerBook(ledger.store, load_design_docs())
    assert fresh.current_balance(account, at(2026, 12, 1, 0, 1)) == 1_250
    assert kazoo_balance(ledger.store, account, datetime(2026, 12, 1, 0, 2, tzinfo=UTC)) == 1_250
    assert ledger.carried_into(account, (2026, 12)) == ledger.month_total(account_modb(account, 2026, 11))
    assert LedgerBook(ledger.store, load_design_docs()).current_balance(account, at(2026, 12, 1, 0, 3)) == 1_250
    assert rollover_differences(ports, account, date(2026, 11, 1), date(2026, 11, 30)) == []


def test_inside_a_pass_a_month_kazoo_creates_meanwhile_is_still_seen(book):
    """A billing pass keeps what it learnt of an account's databases, but not for the months
    around now: December created by Kazoo (its clock a little ahead) after the pass first looked
    still gets the late November payment carried over, and an event another writer put into a
    month that appeared meanwhile is found there, not written a second time."""
    ledger, account = book
    ledger.write(account, [entry("202611-wire-1", "credit", 1_000)], (2026, 11), at(2026, 11, 20))
    reads = PassReads(ledger.store)
    in_pass = LedgerBook(reads, ledger.design_docs)
    december = account_modb(account, 2026, 12)
    assert not reads.database_exists(december)  # the pass has looked: no December yet
    ledger.store.ensure_database(december)  # Kazoo rolls November over at its own midnight
    ledger.store.put(december, rollover_document(account, "", (2026, 12), 1_000, december, at(2026, 12, 1)))
    in_pass.write(account, [entry("202611-wire-2", "credit", 300)], (2026, 11), at(2026, 11, 30, 23, 59, 30))
    assert ledger.carried_into(account, (2026, 12)) == 1_300
    assert kazoo_balance(ledger.store, account, datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC)) == 1_300

    other = new_account_id()
    reads = PassReads(ledger.store)
    assert not reads.database_exists(account_modb(other, 2026, 11))
    LedgerBook(ledger.store, ledger.design_docs).write(  # another process, its clock still in November
        other, [entry("202611-kazbill-mrc-x", "debit", 500)], (2026, 11), at(2026, 11, 30, 23, 59, 59)
    )
    written = LedgerBook(reads, ledger.design_docs).write(
        other, [entry("202612-kazbill-mrc-x", "debit", 500)], (2026, 11), at(2026, 12, 1, 0, 0, 1)
    )
    assert written == []  # already in November: not charged twice
    for db in ledger.store.list_databases(f"account/{other[:2]}/{other[2:4]}/{other[4:]}"):
        ledger.store.delete_database(db)
