"""GET .../revenue?month=YYYYMM: a reseller's figures for the accounts below it, per currency:
monthly recurring charges (MRR) and how many are overdue, suspended and what they owe (from the
account directory, as of each account's last billing pass), and what the month billed and
collected per ledger source, and billed per service category, from the accounts' month figures
in the directory (bookkeeper/services/operations/revenue.py), net of refunds and prorated
credits: one query however many accounts are below, as of each account's last billing pass."""

from __future__ import annotations

import re

import falcon

from bookkeeper.domain.kazoo_months import utc_month
from bookkeeper.domain.money import to_major
from bookkeeper.ports import gregorian_now
from bookkeeper.services.operations.reseller_figures import totals_below
from bookkeeper.services.operations.revenue import revenue_below
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import invalid

_MONTH = re.compile(r"(20[0-9]{2})(0[1-9]|1[0-2])")


class Revenue:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        asked = req.get_param("month")
        if asked is None:
            month = utc_month(gregorian_now(self.deps.clock))
        elif (match := _MONTH.fullmatch(asked)) is not None:
            month = (int(match.group(1)), int(match.group(2)))
        else:
            raise invalid("month", "format", "a month as YYYYMM, e.g. 202611")
        figures = {found.currency: found for found in revenue_below(self.deps.store, account_id, month)}
        totals = {found.currency: found for found in totals_below(self.deps.store, account_id)}
        rows = []
        for currency in sorted(set(figures) | set(totals)):
            money, kept = figures.get(currency), totals.get(currency)
            rows.append(
                {
                    "currency": currency,
                    "accounts": kept.accounts if kept else 0,
                    "mrr": to_major(kept.monthly if kept else 0),
                    "delinquent": kept.delinquent if kept else 0,
                    "blocked": kept.blocked if kept else 0,
                    "owed": to_major(kept.owed if kept else 0),
                    "billed": {source: to_major(units) for source, units in (money.billed if money else {}).items()},
                    "billed_total": to_major(money.billed_total if money else 0),
                    "billed_by_category": {
                        category: to_major(units) for category, units in (money.by_category if money else {}).items()
                    },
                    "collected": {
                        source: to_major(units) for source, units in (money.collected if money else {}).items()
                    },
                    "collected_total": to_major(money.collected_total if money else 0),
                }
            )
        answer(req, resp, {"month": f"{month[0]:04d}{month[1]:02d}", "currencies": rows})
