"""What the console's pages show, gathered through the same services as the API: the customer
list from the account directory (customer_listing.py), one customer from its billing context,
its quantities priced by its plan, its period's statement and its documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.ledger import signed_amount
from bookkeeper.domain.periods import local_day_of_gregorian, period_containing
from bookkeeper.domain.plan_pricing import price_services
from bookkeeper.domain.standing_words import reason_in
from bookkeeper.money_display import format_money
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery, gregorian_now
from bookkeeper.services.billing.context import BillingContext, billing_quantities, get_or_none
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from bookkeeper.services.documents.statements import statement
from bookkeeper.services.operations.customer_listing import CustomerPage
from bookkeeper.services.operations.reseller_figures import failures_below, totals_below, undelivered_below
from bookkeeper.services.operations.revenue import revenue_below
from crossbar_api.deps import ApiDeps
from crossbar_api.portal.history import chosen_period_start, documents_model, periods_model
from crossbar_api.portal.texts import LOCALES

DASHBOARD_ITEMS = 10  # the newest of each kind; the count says how many there are
NOTICES_SHOWN = 20


def money_in(lang: str) -> Callable[[int, str | None], str]:
    return lambda units, currency: format_money(units, currency or "USD", LOCALES[lang])


def dashboard_model(store: DocumentStore, account_id: str, lang: str, month: tuple[int, int]) -> dict[str, Any]:
    money = money_in(lang)
    failures, undelivered = failures_below(store, account_id), undelivered_below(store, account_id)
    month_figures = {found.currency: found for found in revenue_below(store, account_id, month)}
    rows = []
    for totals in totals_below(store, account_id):
        figures = month_figures.get(totals.currency)
        rows.append(
            {
                "currency": totals.currency,
                "accounts": totals.accounts,
                "monthly": money(totals.monthly, totals.currency),
                "delinquent": totals.delinquent,
                "blocked": totals.blocked,
                "owed": money(totals.owed, totals.currency),
                "billed": money(figures.billed_total, totals.currency) if figures else "",
                "collected": money(figures.collected_total, totals.currency) if figures else "",
                "by_category": [
                    (category, money(units, totals.currency))
                    for category, units in sorted((figures.by_category if figures else {}).items(), key=_largest_first)
                ],
            }
        )
    return {
        "totals": rows,
        "month": f"{month[0]:04d}-{month[1]:02d}",
        "failures": failures[:DASHBOARD_ITEMS],
        "failure_count": len(failures),
        "undelivered": undelivered[:DASHBOARD_ITEMS],
        "undelivered_count": len(undelivered),
    }


def _largest_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def list_model(page: CustomerPage, lang: str, now_gregorian: int) -> list[dict[str, Any]]:
    money = money_in(lang)
    return [
        {
            "id": summary["_id"],
            "name": summary.get("name") or summary["_id"],
            "realm": summary.get("realm") or "",
            "balance": money(summary.get("balance", 0), summary.get("currency")),
            "negative": summary.get("balance", 0) < 0,
            "monthly": money(summary.get("monthly", 0), summary.get("currency")),
            "standing": "blocked" if summary.get("blocked") else summary.get("standing", "good_standing"),
            "trial": isinstance(summary.get("trial_expires"), int) and summary["trial_expires"] > now_gregorian,
        }
        for summary in page.summaries
    ]


def customer_model(
    deps: ApiDeps, account: dict[str, Any], context: BillingContext, lang: str, period_asked: str | None = None
) -> dict[str, Any]:
    """The customer's page; the ledger of the period `period_asked` starts (else the current one,
    or the one before while the current one has nothing in it yet: a period's first hours)."""
    account_id, currency = context.account_id, context.reseller.currency
    money = lambda units: format_money(units, currency, LOCALES[lang])  # noqa: E731 - a one-line formatter
    now = gregorian_now(deps.clock)
    today = local_day_of_gregorian(now, context.reseller.timezone)
    prices = price_services(context.plan, billing_quantities(deps.store, context)) if context.plan else []
    shown = period_containing(context.account.billing_day, chosen_period_start(context, period_asked, today))
    found = statement(deps.store, deps.design_docs, context, shown, now)
    if period_asked is None and not found.entries and found.opening_balance is None and shown.contains(today):
        before = period_containing(context.account.billing_day, shown.start - timedelta(days=1))
        found = statement(deps.store, deps.design_docs, context, before, now)
    standing = get_or_none(deps.store, account_db(account_id), "kazbill_standing") or {}
    trial = context.account.trial_expires
    return {
        "account_id": account_id,
        "name": account.get("name") or account_id,
        "realm": account.get("realm") or "",
        "parent_id": (account.get("pvt_tree") or [None])[-1],
        "currency": currency,
        "balance": money(LedgerBook(deps.store, deps.design_docs).current_balance(account_id, now)),
        "credit_line": money(context.credit_line),
        "standing": "blocked" if standing.get("blocked") else standing.get("status", "good_standing"),
        "reasons": [reason_in(str(reason), lang) for reason in standing.get("reasons", [])],
        "trial_until": local_day_of_gregorian(trial, context.reseller.timezone).isoformat()
        if trial is not None and trial > now
        else None,
        "plan": None if context.plan is None else context.plan.name,
        "services": [
            {
                "name": price.names.get(lang) or price.name,
                "quantity": price.quantity,
                "rate": None if price.rate is None else money(price.rate),
                "monthly": money(price.monthly),
            }
            for price in prices
        ],
        "estimated_monthly": money(sum(price.monthly for price in prices)),
        "period": {"start": found.period.start.isoformat(), "end": found.period.end.isoformat()},
        "today": today.isoformat(),
        "period_status": found.status,  # the marker's: open, pending (unpaid), or not_opened
        "opening_balance": None if found.opening_balance is None else money(found.opening_balance),
        "ledger": _ledger(found.entries, found.balance, context, money),
        "periods": periods_model(deps, context, today),
        "documents": documents_model(deps, context, today, money, prefix="/console"),
        "posting_key": uuid.uuid4().hex,  # one per page shown: a double submit posts once
        "notices": _notices(deps.store, account_id),
    }


def _notices(store: DocumentStore, account_id: str) -> list[dict[str, Any]]:
    """The notices queued for the account's admins, newest first, with how each went."""
    try:
        rows = store.query_view(
            NOTICES_DB,
            "kazbill_notices",
            "by_account",
            ViewQuery(start_key=[account_id, {}], end_key=[account_id], descending=True, limit=NOTICES_SHOWN),
        ).rows
    except DatabaseNotFound:
        return []
    return [
        {"kind": row.value.get("kind"), "day": row.value.get("day"), "state": row.value.get("state")} for row in rows
    ]


def _ledger(
    entries: list[dict[str, Any]], balance: int, context: BillingContext, money: Callable[[int], str]
) -> list[dict[str, Any]]:
    """Newest first, each with the balance right after it: the newest ends at the period's balance,
    and each older one is that balance less what the newer entries moved."""
    rows, running = [], balance
    for entry in entries:
        rows.append(
            {
                "date": local_day_of_gregorian(entry.get("pvt_created", 0), context.reseller.timezone).isoformat(),
                "description": entry.get("description", ""),
                "credit": entry.get("pvt_ledger_type") == "credit",
                "amount": money(entry.get("amount", 0)),
                "balance": money(running),
            }
        )
        running -= signed_amount(entry)
    return rows
