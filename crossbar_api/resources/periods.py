"""GET .../billing_periods (the periods opened, with their opening balances) and
GET .../billing_periods/{start} (one period as the portal shows it: opening balance, payments,
monthly fees, per-minute calls, and the balance at its end or now)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import day_start_utc, local_day_of_gregorian, period_containing
from bookkeeper.ports import ViewQuery
from bookkeeper.services.ledger_book import LedgerBook, months_from, previous_month
from bookkeeper.services.payments import GATEWAY_CREDITS, MANUAL_CREDITS
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid

HISTORY_MONTHS = 24
PER_MINUTE = ("per_minute_call", "sub_account_per_minute_call")


def _gregorian(day: date, tz: str) -> int:
    return to_gregorian_seconds(int(day_start_utc(day, tz).timestamp()))


def _markers(deps: ApiDeps, account_id: str, months: list[tuple[int, int]]) -> list[dict[str, Any]]:
    book, found = LedgerBook(deps.store, deps.design_docs), []
    for year, month in months:
        db = book.month_db(account_id, (year, month), create=False)
        if db is None:
            continue
        prefix = f"{year:04d}{month:02d}-kazbill-period-"
        rows = deps.store.all_docs(db, ViewQuery(start_key=prefix, end_key=prefix + "\ufff0", include_docs=True)).rows
        found += [row.doc for row in rows if row.doc]
    return found


def _shown(marker: dict[str, Any]) -> dict[str, Any]:
    return {**marker["period"], "status": marker.get("status"), "opened_on": marker.get("opened_on"),
            "opening_balance": to_major(marker.get("opening_balance", 0)),
            "items": [{**item, "rate": None if item.get("rate") is None else to_major(item["rate"]),
                       "monthly": to_major(item["monthly"])} for item in marker.get("items", [])],
            "cancelled": marker.get("cancelled", [])}


class BillingPeriods:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        today = local_day_of_gregorian(to_gregorian_seconds(int(self.deps.clock.now().timestamp())),
                                       context.reseller.timezone)
        last = (today.year, today.month)
        first = last
        for _ in range(HISTORY_MONTHS - 1):
            first = previous_month(first)
        markers = sorted(_markers(self.deps, account_id, months_from(first, last)),
                         key=lambda marker: marker["period"]["start"], reverse=True)
        answer(req, resp, [_shown(marker) for marker in markers])


class BillingPeriod:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, start: str) -> None:
        account_for(req, self.deps, account_id)
        try:
            first_day = date.fromisoformat(start)
        except ValueError:
            raise invalid("start", "format", "the period's first day, YYYY-MM-DD") from None
        context = billing_context(self.deps, account_id)
        period = period_containing(context.account.billing_day, first_day)
        if period.start != first_day:
            raise ApiError(404, "bad identifier", {"start": {"period": {
                "message": f"no period starts on {start}; the account's periods start on day {context.account.billing_day}"}}})
        tz = context.reseller.timezone
        begins, ends = _gregorian(period.start, tz), _gregorian(period.end + timedelta(days=1), tz) - 1
        now = to_gregorian_seconds(int(self.deps.clock.now().timestamp()))
        book = LedgerBook(self.deps.store, self.deps.design_docs)
        months = months_from((period.start.year, period.start.month), (period.end.year, period.end.month))
        totals = {"payments": 0, "monthly_fees": 0, "per_minute_calls": 0}
        for month in months:
            db = book.month_db(account_id, month, create=False)
            if db is None:
                continue
            for row in self.deps.store.query_view(db, "kazbill_ledgers", "balance_by_created", ViewQuery(
                    reduce=False, start_key=begins, end_key=ends, include_docs=True)).rows:
                service = (row.doc.get("source") or {}).get("service")
                if service in GATEWAY_CREDITS + MANUAL_CREDITS:
                    totals["payments"] += row.value
                elif service in PER_MINUTE:
                    totals["per_minute_calls"] -= row.value
                elif "category" in ((row.doc.get("metadata") or {}).get("kazbill") or {}):
                    totals["monthly_fees"] -= row.value
        marker = next((m for m in _markers(self.deps, account_id, months) if m["period"]["start"] == start), None)
        until = min(now, ends)
        closing_month = local_day_of_gregorian(until, tz)
        balance = book.balance_at(account_id, (closing_month.year, closing_month.month), until)
        answer(req, resp, {
            "start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days,
            "status": marker.get("status") if marker else "not_opened",
            "opening_balance": None if marker is None else to_major(marker.get("opening_balance", 0)),
            **{name: to_major(value) for name, value in totals.items()},
            "balance": to_major(balance), "balance_at": until, "currency": context.reseller.currency,
        })
