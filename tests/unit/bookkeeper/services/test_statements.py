"""A period's statement adds up: opening balance + payments - monthly fees - per-minute calls +
adjustments = closing balance, whatever the ledger holds and whenever the bookkeeper opened the
period (a payment of the period's first morning, made before the period was opened, was counted
in the opening balance and again as a payment)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.domain.periods import period_containing
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.statements import statement

ACCOUNT = "5e1b9c0d2a3f4e5d6c7b8a9f0e1d2c3b"
MOSCOW = "Europe/Moscow"  # UTC+3: the period of 1-30 November begins at 21:00 UTC on 31 October
CONTEXT = SimpleNamespace(account_id=ACCOUNT, reseller=SimpleNamespace(timezone=MOSCOW))
NOVEMBER = period_containing(1, date(2026, 11, 1))
MSK = timezone(timedelta(hours=3))


def at(*when: int, tz=UTC) -> int:
    return to_gregorian_seconds(int(datetime(*when, tzinfo=tz).timestamp()))


# What each kind of entry is, as the statement sorts it: (ledger type, source.service, Kazbill metadata)
KINDS = {
    "wire_transfer": ("credit", "wire_transfer", {}),
    "braintree": ("credit", "braintree", {}),
    "braintree_refund": ("debit", "braintree_refund", {}),
    "monthly_fee": ("debit", "monthly_recurring", {"category": "devices", "reason": "monthly_recurring"}),
    "prorated_refund": ("credit", "recurring_prorate", {"category": "devices", "reason": "recurring_prorate"}),
    "kazoo_call": ("debit", "per-minute-voip", {}),
    "correction_down": ("debit", "balance_correction", {"reason": "balance_correction"}),
    "kazoo_other": ("credit", "mobile", {}),
}


def entry(n: int, kind: str, amount: int) -> dict:
    ledger_type, service, kazbill = KINDS[kind]
    doc = {
        "_id": f"202611-e{n}-{kind}",
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "source": {"service": service, "id": f"e{n}"},
        "description": kind,
    }
    if kazbill:
        doc["metadata"] = {"kazbill": kazbill}
    return doc


def open_november(book: LedgerBook, balance_when_opened: int, opened_at: int) -> None:
    """The bookkeeper's period marker, as period_opening writes it."""
    db = book.month_db(ACCOUNT, (2026, 11), create=True)
    book.store.put(
        db,
        {
            "_id": "202611-kazbill-period-2026-11-01",
            "pvt_type": "kazbill_period",
            "period": {"start": "2026-11-01", "end": "2026-11-30"},
            "status": "opened",
            "opening_balance": balance_when_opened,
            "pvt_created": opened_at,
        },
    )


def write(book: LedgerBook, doc: dict, when: int) -> None:
    book.write(ACCOUNT, [{**doc, "pvt_created": when}], (2026, 11), when)


def adds_up(found) -> bool:
    return (
        found.opening_balance + found.payments - found.monthly_fees - found.per_minute_calls + found.adjustments
        == found.balance
    )


def test_a_payment_made_on_the_first_morning_before_the_period_opened_counts_once(tmp_path):
    """Alpha Taxi's November: 12,000.00 paid at 00:30 on 1 November, the period opened at 02:00
    with the payment in its balance, 4,853.33 of monthly fees. The API said opening 12,000,
    payments 12,000, fees 4,853.33, balance 7,146.67 (12,000 too much on the left)."""
    book = LedgerBook(EmbeddedStore(tmp_path / "k.sqlite3"), load_design_docs())
    write(book, entry(1, "wire_transfer", 120_000_000), at(2026, 11, 1, 0, 30, tz=MSK))
    open_november(book, 120_000_000, at(2026, 11, 1, 2, 0, tz=MSK))
    write(book, entry(2, "monthly_fee", 48_533_300), at(2026, 11, 1, 2, 0, tz=MSK))
    found = statement(book.store, load_design_docs(), CONTEXT, NOVEMBER, at(2026, 11, 20, tz=MSK))
    assert (found.opening_balance, found.payments, found.monthly_fees, found.balance) == (
        0,
        120_000_000,
        48_533_300,
        71_466_700,
    )
    assert adds_up(found)


def test_refunds_corrections_and_the_rollover_each_land_once(tmp_path):
    """Money a gateway took back lowers the payments; a correction is an adjustment; the month's
    rollover (the period spans October's last three hours, UTC) moves no money and is no entry."""
    book = LedgerBook(EmbeddedStore(tmp_path / "k.sqlite3"), load_design_docs())
    write(book, entry(1, "braintree", 50_000_000), at(2026, 10, 20))  # October: before the period
    open_november(book, 50_000_000, at(2026, 10, 31, 23, 0))
    write(book, entry(2, "monthly_fee", 10_000_000), at(2026, 10, 31, 22, 0))  # 1 Nov, 01:00 in Moscow
    write(book, entry(3, "braintree", 5_000_000), at(2026, 11, 3))
    write(book, entry(4, "braintree_refund", 1_000_000), at(2026, 11, 4))
    write(book, entry(5, "correction_down", 300_000), at(2026, 11, 5))
    write(book, entry(6, "kazoo_call", 120_000), at(2026, 11, 6))
    found = statement(book.store, load_design_docs(), CONTEXT, NOVEMBER, at(2026, 12, 2))
    assert (
        found.opening_balance,
        found.payments,
        found.monthly_fees,
        found.per_minute_calls,
        found.adjustments,
        found.balance,
    ) == (50_000_000, 4_000_000, 10_000_000, 120_000, -300_000, 43_580_000)
    assert sorted(doc["description"] for doc in found.entries) == [
        "braintree",
        "braintree_refund",
        "correction_down",
        "kazoo_call",
        "monthly_fee",
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(KINDS)), st.integers(1, 10**9), st.integers(0, 45 * 86_400)),
        min_size=1,
        max_size=14,
    ),
    st.integers(0, 3 * 86_400),
    st.integers(0, 10 * 86_400),
)
def test_opening_plus_movements_is_the_closing_balance(tmp_path_factory, movements, opened_after, read_after):
    """Invariant, over random ledgers from 20 October to 4 December (UTC), a period opened at any
    moment of its first three days and read at any moment of its last ten or after: the
    statement adds up; its opening balance is the sum of every entry before the period began; its
    closing balance the sum of every entry until it ended (or until now)."""
    book = LedgerBook(EmbeddedStore(tmp_path_factory.mktemp("statement") / "k.sqlite3"), load_design_docs())
    begins, ends = at(2026, 10, 31, 21, 0), at(2026, 11, 30, 21, 0) - 1
    start = at(2026, 10, 20)
    dated = sorted(((start + offset, kind, amount) for kind, amount, offset in movements), key=lambda m: m[0])
    opened_at = begins + opened_after
    now = at(2026, 11, 21) + read_after
    marker_written = False
    for n, (when, kind, amount) in enumerate(dated):
        if when > now:
            break
        if not marker_written and when > opened_at:
            open_november(book, 0, opened_at)
            marker_written = True
        write(book, entry(n, kind, amount), when)
    if not marker_written:
        open_november(book, 0, opened_at)
    found = statement(book.store, load_design_docs(), CONTEXT, NOVEMBER, now)
    signed = [(when, amount if KINDS[kind][0] == "credit" else -amount) for when, kind, amount in dated if when <= now]
    assert found.opening_balance == sum(amount for when, amount in signed if when < begins)
    assert found.balance == sum(amount for when, amount in signed if when <= min(now, ends))
    assert adds_up(found)
