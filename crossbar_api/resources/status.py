"""GET .../billing_status: what a reseller's UI shows about an account's billing."""

from __future__ import annotations

import falcon

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import local_day_of_gregorian, period_containing
from bookkeeper.ports import NotFound, gregorian_now
from bookkeeper.services.billing.ledger_book import LedgerBook
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer


class BillingStatus:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        now = gregorian_now(self.deps.clock)
        today = local_day_of_gregorian(now, context.reseller.timezone)
        period = period_containing(context.account.billing_day, today)
        try:
            standing = self.deps.store.get(account_db(account_id), "kazbill_standing")
        except NotFound:
            standing = {}
        trial = context.account.trial_expires
        balance = LedgerBook(self.deps.store, self.deps.design_docs).current_balance(account_id, now)
        answer(
            req,
            resp,
            {
                "account_id": account_id,
                "name": account.get("name"),
                "billable": context.billable,
                "reseller_id": context.reseller_id,
                "currency": context.reseller.currency,
                "trial": trial is not None and today <= local_day_of_gregorian(trial, context.reseller.timezone),
                "trial_expires": trial,
                "payment_type": context.account.payment_type,
                "billing_day": context.account.billing_day,
                "current_period": {
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                    "days": period.days,
                    "days_left": period.days_left(today),
                },
                "standing": standing.get("status", "good_standing"),
                "blocked": bool(standing.get("blocked")),
                "reasons": standing.get("reasons", []),
                "balance": to_major(balance),
                "credit_line": to_major(context.credit_line),
            },
        )
