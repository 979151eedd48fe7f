"""The payments page's record: the account's documents to download and its billing periods to
look back at, gathered from the same services as the API (document_listing, statements)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from bookkeeper.domain.money import units_from_minor
from bookkeeper.domain.periods import period_containing
from bookkeeper.services.billing.context import BillingContext
from bookkeeper.services.documents.document_listing import RENDERED, list_documents, months_back
from bookkeeper.services.documents.statements import period_markers
from crossbar_api.deps import ApiDeps

LISTED_MONTHS = 12
SHOWN_DOCUMENTS = 50


def documents_model(
    deps: ApiDeps, context: BillingContext, today: date, money: Callable[[int], str], prefix: str = "/portal"
) -> list[dict[str, Any]]:
    """Newest first: type, number, period, total and, once rendered, where to download it (under
    the page's `prefix`: the payments page's, or the console's)."""
    page = f"{prefix}/accounts/{context.account_id}"
    found = list_documents(
        deps.store, deps.design_docs, context.account_id, months_back((today.year, today.month), LISTED_MONTHS)
    )
    shown = []
    for doc in found[:SHOWN_DOCUMENTS]:
        total, code = doc.get("total"), doc.get("currency")
        shown.append(
            {
                "type": doc["document_type"],
                "number": doc.get("number"),
                "period_start": doc["period_start"],
                "issued": doc.get("issued"),
                # Kept in the currency's minor units; the page formats Kazoo units like every amount.
                "total": money(units_from_minor(total, code))
                if isinstance(total, int) and isinstance(code, str)
                else "",
                "url": f"{page}/documents/{doc['id']}" if doc.get("state") in RENDERED else None,
                "voided": doc.get("voided") if isinstance(doc.get("voided"), str) else None,
                "corrects": doc.get("corrects"),
            }
        )
    return shown


def periods_model(deps: ApiDeps, context: BillingContext, today: date) -> list[dict[str, Any]]:
    """The periods the bookkeeper opened (or left pending) over the last months, newest first."""
    markers = period_markers(
        deps.store, deps.design_docs, context.account_id, months_back((today.year, today.month), LISTED_MONTHS)
    )
    return sorted(
        (
            {"start": marker["period"]["start"], "end": marker["period"]["end"], "status": marker.get("status", "open")}
            for marker in markers
        ),
        key=lambda period: period["start"],
        reverse=True,
    )


def chosen_period_start(context: BillingContext, asked: str | None, today: date) -> date:
    """The period the page shows: the one asked for (`?period=` its first day, not in the
    future), else the current one."""
    current = period_containing(context.account.billing_day, today).start
    try:
        day = date.fromisoformat(asked) if asked else current
    except ValueError:
        return current
    if day > today or period_containing(context.account.billing_day, day).start != day:
        return current
    return day
