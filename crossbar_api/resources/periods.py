"""GET .../billing_periods (the periods opened, with the balance the bookkeeper found when it
opened each) and GET .../billing_periods/{start} (one period as the portal shows it: opening
balance, payments, monthly fees, per-minute calls in total and per carrier, adjustments, and the
balance at its end or now; opening + payments - fees - calls + adjustments = balance)."""

from __future__ import annotations

from datetime import date
from typing import Any

import falcon

from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import local_day_of_gregorian, period_containing
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, previous_month
from bookkeeper.services.documents.statements import opening_instant, period_markers, statement
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError
from crossbar_api.fields import day

HISTORY_MONTHS = 24


def _markers(deps: ApiDeps, account_id: str, months: list[tuple[int, int]]) -> list[dict[str, Any]]:
    return period_markers(deps.store, deps.design_docs, account_id, months)


def _shown(marker: dict[str, Any], opening_balance: int) -> dict[str, Any]:
    return {
        **marker["period"],
        "status": marker.get("status"),
        "opened_on": marker.get("opened_on"),
        "opening_balance": to_major(opening_balance),
        # When the bookkeeper opened the period (a payment of its first morning may be in it):
        # what decided coverage. The statement's opening balance is the ledger's at its start.
        "balance_when_opened": to_major(marker.get("opening_balance", 0)),
        "items": [
            {
                **item,
                "rate": None if item.get("rate") is None else to_major(item["rate"]),
                "monthly": to_major(item["monthly"]),
            }
            for item in marker.get("items", [])
        ],
        "cancelled": marker.get("cancelled", []),
    }


class BillingPeriods:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        today = local_day_of_gregorian(gregorian_now(self.deps.clock), context.reseller.timezone)
        last = (today.year, today.month)
        first = last
        for _ in range(HISTORY_MONTHS - 1):
            first = previous_month(first)
        markers = sorted(
            _markers(self.deps, account_id, months_from(first, last)),
            key=lambda marker: marker["period"]["start"],
            reverse=True,
        )
        book, tz = LedgerBook(self.deps.store, self.deps.design_docs), context.reseller.timezone
        answer(
            req,
            resp,
            [
                _shown(
                    marker,
                    book.balance_at(account_id, opening_instant(date.fromisoformat(marker["period"]["start"]), tz)),
                )
                for marker in markers
            ],
        )


class BillingPeriod:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, start: str) -> None:
        account_for(req, self.deps, account_id)
        first_day = day(start, "start")  # the period's first day
        context = billing_context(self.deps, account_id)
        period = period_containing(context.account.billing_day, first_day)
        if period.start != first_day:
            raise ApiError(
                404,
                "bad identifier",
                {
                    "start": {
                        "period": {
                            "message": (
                                f"no period starts on {start}; "
                                f"the account's periods start on day {context.account.billing_day}"
                            )
                        }
                    }
                },
            )
        now = gregorian_now(self.deps.clock)
        found = statement(self.deps.store, self.deps.design_docs, context, period, now)
        answer(
            req,
            resp,
            {
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "days": period.days,
                "status": found.status,
                "opening_balance": None if found.opening_balance is None else to_major(found.opening_balance),
                "payments": to_major(found.payments),
                "monthly_fees": to_major(found.monthly_fees),
                "per_minute_calls": to_major(found.per_minute_calls),
                "adjustments": to_major(found.adjustments),
                "per_minute_by_carrier": [
                    {
                        "carrier": totals.carrier,
                        "calls": totals.calls,
                        "billed_seconds": totals.billed_seconds,
                        "amount": to_major(totals.amount),
                        "by_direction": totals.by_direction,
                    }
                    for totals in found.per_minute_by_carrier()
                ],
                "balance": to_major(found.balance),
                "balance_at": found.balance_at,
                "currency": context.reseller.currency,
            },
        )
