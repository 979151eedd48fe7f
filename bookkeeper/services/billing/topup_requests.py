"""Step 1 of an auto top-up, taken by a billing pass: when the balance has fallen below the
account's threshold, a request is queued for today (once a day, whoever asks). The card is
charged later, by the mailer's pass, never on the event path (payments/auto_topup.py)."""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID, AutoTopUp, parse_auto_topup, topup_due
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import get_or_none

TOPUPS_DB = "kazbill_topups"


def auto_topup_settings(store: DocumentStore, account_id: str) -> AutoTopUp | None:
    try:
        return parse_auto_topup(get_or_none(store, account_db(account_id), AUTO_TOPUP_DOC_ID))
    except GatewayFieldError:
        return None  # a broken document charges nothing; the API refuses to write one


def request_if_due(store: DocumentStore, account_id: str, balance: int, day: date, now_gregorian: int) -> bool:
    """Step 1, from a billing pass: queue today's request when a top-up is due. True if queued now."""
    if not topup_due(auto_topup_settings(store, account_id), balance, now_gregorian):
        return False
    request = {
        "_id": f"autotopup-{account_id}-{day.isoformat()}",
        "pvt_type": "auto_topup_request",
        "account_id": account_id,
        "day": day.isoformat(),
        "state": "queued",
        "balance": balance,
        "pvt_created": now_gregorian,
    }
    store.ensure_database(TOPUPS_DB)
    return bool(store.bulk_put(TOPUPS_DB, [request])[0].ok)  # a conflict: queued before today
