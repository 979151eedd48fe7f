"""GET .../services (what the account has, what each item costs a month, the estimated total)
and POST .../services/reconcile (bill what changed, now)."""

from __future__ import annotations

import falcon

from bookkeeper.domain.money import to_major
from bookkeeper.domain.plan_pricing import price_services
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.context import billing_quantities
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError


class Services:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        quantities = billing_quantities(self.deps.store, context)
        prices = price_services(context.plan, quantities) if context.plan else []
        items = [
            {
                "category": p.category,
                "item": p.item,
                "name": p.name,
                "quantity": p.quantity,
                "billable_quantity": p.billable_quantity,
                "rate": None if p.rate is None else to_major(p.rate),
                "discount": to_major(p.discount),
                "monthly_cost": to_major(p.monthly),
                "charging": context.reseller.scheme_for(p.category),
            }
            for p in prices
        ]
        answer(
            req,
            resp,
            {
                "plan": None if context.plan is None else {"id": context.plan.plan_id, "name": context.plan.name},
                "currency": context.reseller.currency,
                "quantities": quantities,
                "items": items,
                "estimated_monthly_cost": to_major(sum(p.monthly for p in prices)),
            },
        )


class Reconcile:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id, write=True)
        events = reconcile_account(BillingPorts(self.deps.store, self.deps.clock, self.deps.design_docs), account_id)
        if events and events[0].name == "billing_failed":
            raise ApiError(
                409,
                "the account's billing documents cannot be used",
                {events[0].details["field"]: {"billing": {"message": events[0].details["reason"]}}},
            )
        answer(
            req,
            resp,
            [
                {"event": e.name, **{k: (to_major(v) if k == "amount" else v) for k, v in e.details.items()}}
                for e in events
            ],
        )
