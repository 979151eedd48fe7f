"""An account's statement for one billing period, as the API and the payments page show it:
the opening balance, the payments, the monthly fees, the per-minute calls, the adjustments, the
balance at the period's end (or now), and the entries themselves, newest first.

Every figure comes from the ledger, over the same instants: the opening balance is the balance
just before the period's first second, and the entries are those made from then until the
closing instant. So opening + payments - monthly fees - per-minute calls + adjustments is the
closing balance, always. (The opening balance the period marker recorded is the balance when the
bookkeeper opened the period, which may already include a payment made on its first morning: it
decides coverage, it is not the statement's opening.) A month's rollover carries a balance from
one month's database into the next; it moves no money and is not an entry of the statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.call_totals import PER_MINUTE_REASONS, CallCarrier, CarrierCalls, per_minute_totals
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.domain.ledger import PER_MINUTE_SOURCE, entry_reason
from bookkeeper.domain.periods import Period, day_start_utc
from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.billing.context import BillingContext
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, utc_month
from bookkeeper.services.payments.postings import GATEWAY_CREDITS, GATEWAY_DEBITS, MANUAL_CREDITS

PER_MINUTE = PER_MINUTE_REASONS + (PER_MINUTE_SOURCE,)  # Kazoo's jonny5 debits are calls too
PERIOD_MARKER = "-kazbill-period-"
ROLLOVERS = "rollovers"  # Kazoo's source.service of a month's rollover (kazoo_months.rollover_document)


def day_start_gregorian(day: date, tz: str) -> int:
    return gregorian_of(day_start_utc(day, tz))


def opening_instant(first_day: date, tz: str) -> int:
    """The last second before a period's first day: its opening balance is the balance then."""
    return day_start_gregorian(first_day, tz) - 1


@dataclass
class Statement:
    period: Period
    status: str  # the period marker's status (opened, pending...), or not_opened
    opening_balance: int | None
    payments: int = 0  # money in, net of what a gateway took back (refunds, reversals, disputes)
    monthly_fees: int = 0  # charged: positive
    per_minute_calls: int = 0  # charged: positive
    adjustments: int = 0  # everything else, signed as on the balance (corrections, Kazoo's own entries)
    balance: int = 0
    balance_at: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)  # newest first

    def per_minute_by_carrier(self, carriers: Sequence[CallCarrier] = ()) -> list[CarrierCalls]:
        return per_minute_totals(self.entries, carriers)


def period_markers(
    store: DocumentStore, design_docs: Sequence[DesignDoc], account_id: str, months: Sequence[tuple[int, int]]
) -> list[dict[str, Any]]:
    book, found = LedgerBook(store, design_docs), []
    for year, month in months:
        db = book.month_db(account_id, (year, month), create=False)
        if db is None:
            continue
        prefix = f"{year:04d}{month:02d}{PERIOD_MARKER}"
        rows = store.all_docs(db, ViewQuery(start_key=prefix, end_key=prefix + "\ufff0", include_docs=True)).rows
        found += [row.doc for row in rows if row.doc]
    return found


def statement(
    store: DocumentStore, design_docs: Sequence[DesignDoc], context: BillingContext, period: Period, now_gregorian: int
) -> Statement:
    account_id, tz = context.account_id, context.reseller.timezone
    begins = day_start_gregorian(period.start, tz)
    ends = day_start_gregorian(period.end + timedelta(days=1), tz) - 1
    book = LedgerBook(store, design_docs)
    months = months_from((period.start.year, period.start.month), (period.end.year, period.end.month))
    # Entries are in the UTC month they were written in (kazoo_months.py): the period's
    # entries, by when they were made, are in the UTC months its local days span.
    written_in = months_from(utc_month(begins), utc_month(ends))
    marker = next(
        (
            m
            for m in period_markers(store, design_docs, account_id, months)
            if m["period"]["start"] == period.start.isoformat()
        ),
        None,
    )
    result = Statement(
        period,
        marker.get("status", "opened") if marker else "not_opened",
        None if marker is None else book.balance_at(account_id, opening_instant(period.start, tz)),
    )
    for month in written_in:
        db = book.month_db(account_id, month, create=False)
        if db is None:
            continue
        for row in store.query_view(
            db,
            "kazbill_ledgers",
            "balance_by_created",
            ViewQuery(reduce=False, start_key=begins, end_key=ends, include_docs=True),
        ).rows:
            assert row.doc is not None  # include_docs
            service = entry_reason(row.doc)
            if service == ROLLOVERS:
                continue
            if service in GATEWAY_CREDITS + MANUAL_CREDITS + GATEWAY_DEBITS:
                result.payments += row.value
            elif service in PER_MINUTE:
                result.per_minute_calls -= row.value
            elif "category" in ((row.doc.get("metadata") or {}).get("kazbill") or {}):
                result.monthly_fees -= row.value
            else:
                result.adjustments += row.value
            result.entries.append(row.doc)
    result.entries.sort(key=lambda entry: (entry.get("pvt_created", 0), entry["_id"]), reverse=True)
    result.balance_at = min(now_gregorian, ends)
    result.balance = book.balance_at(account_id, result.balance_at)
    return result
