"""Whether a queued notice still says something true when the mailer comes to it.

A mailer that starts with a backlog (it was down, the SMTP server was away) used to send it
all: 31 identical low-balance mails to one account, "service suspended" to an account in good
standing again. Before sending, a notice is checked against the account as it is now; one
the account's state no longer supports, or one a newer notice of the same kind replaces, is
not sent but recorded as `superseded`, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db, from_gregorian_seconds
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.billing.ledger_book import LedgerBook

NOTICES_DB = "kazbill_notices"
STANDING_DOC_ID = "kazbill_standing"  # billing.STANDING_DOC_ID (not imported: billing imports much)
LOW_BALANCE_DOC_ID = "kazbill_low_balance"
# What the account must still be for the notice to be true (kazbill_standing's fields).
NEEDS_DELINQUENT = ("period_unpaid",)
NEEDS_BLOCKED = ("service_suspended",)
_DESIGN_DOCS = load_design_docs()  # the ledger's views, for the balance now
# A state the account is in, said again: only the newest is worth sending. (A top-up charged or a
# service cancelled is an event of its own, and each is sent.)
COLLAPSING = ("low_balance", "period_approaching", "service_suspended", "period_unpaid", "period_charged")


def why_superseded(store: DocumentStore, notice: Mapping[str, Any], now: int) -> str | None:
    """None when the notice should go; else why it should not. `now` in Gregorian seconds."""
    today = datetime.fromtimestamp(from_gregorian_seconds(now), UTC).date()
    account_id, kind, day = notice["account_id"], notice["kind"], notice.get("day", "")
    newer = _newer_of_kind(store, account_id, kind, day, notice["_id"]) if kind in COLLAPSING else None
    if newer is not None:
        return f"a newer {kind} notice ({newer}) replaces it"
    db = account_db(account_id)
    if kind in NEEDS_BLOCKED or kind in NEEDS_DELINQUENT:
        standing = _doc(store, db, STANDING_DOC_ID)
        if kind in NEEDS_BLOCKED and not standing.get("blocked"):
            return "the service is no longer suspended"
        if kind in NEEDS_DELINQUENT and standing.get("status") == "good_standing":
            return "the account is in good standing again"
    if kind == "low_balance":
        threshold = (notice.get("details") or {}).get("threshold")
        # The spell ends at the next crawl; a payment since may already have ended it.
        if not _doc(store, db, LOW_BALANCE_DOC_ID).get("below_since") or (
            isinstance(threshold, int) and LedgerBook(store, _DESIGN_DOCS).current_balance(account_id, now) >= threshold
        ):
            return "the balance is no longer low"
    if kind == "period_approaching":
        starts = (notice.get("details") or {}).get("next_period_start")
        if isinstance(starts, str) and starts <= today.isoformat():
            return f"the period it announced began on {starts}"
    return None


def _doc(store: DocumentStore, db: str, doc_id: str) -> dict[str, Any]:
    try:
        return get_or_none(store, db, doc_id) or {}
    except DatabaseNotFound:
        return {}


def _newer_of_kind(store: DocumentStore, account_id: str, kind: str, day: str, own_id: str) -> str | None:
    """The day of a later notice of the same kind to the same account, queued or sent."""
    rows = store.query_view(
        NOTICES_DB, "kazbill_notices", "by_account", ViewQuery(start_key=[account_id], end_key=[account_id, {}])
    ).rows
    later = [
        row.value["day"]
        for row in rows
        if row.id != own_id
        and row.value.get("kind") == kind
        and (row.value.get("day") or "") > day
        and row.value.get("state") not in ("superseded", "failed")
    ]
    return max(later) if later else None
