"""Auto top-up, in two steps so that billing never waits on a card gateway:

1. A billing pass (a debit, a change, the daily crawl) that leaves the balance below the account's
   threshold queues a request in `kazbill_topups`, one per account per day (deterministic id).
2. The mailer's pass charges the queued requests (`charge_due_topups`): it claims each one, checks
   again that it is due (threshold, 24 hours since the last attempt, not switched off), stamps the
   attempt *before* charging (so a crash can never lead to a second charge within 24 hours), tops
   up through the account's reseller's Braintree under the request's id as idempotency key, and
   queues the result notice for the account's admins. The third decline in a row switches auto
   top-up off until the admin turns it on again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID, AutoTopUp, after_attempt, topup_due
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.notices import NoticeDraft
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.billing.notice_queue import queue_notices
from bookkeeper.services.billing.topup_requests import TOPUPS_DB, auto_topup_settings
from bookkeeper.services.payments.card_payments import CardError, CardPorts, claim_of, top_up


@dataclass
class TopUpReport:
    charged: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    details: list[str] = field(default_factory=list)


def charge_due_topups(ports: CardPorts, now_gregorian: int, limit: int = 100) -> TopUpReport:
    """Step 2, from the mailer's pass."""
    report = TopUpReport()
    store = ports.billing.store
    try:
        rows = store.query_view(TOPUPS_DB, "kazbill_topups", "queued", ViewQuery(limit=limit, include_docs=True)).rows
    except DatabaseNotFound:
        return report
    for row in rows:
        request = dict(row.doc or {})
        try:
            request["_rev"] = store.put(TOPUPS_DB, {**request, "state": "charging"}).rev
        except Conflict:
            continue  # another mailer took it
        state, note = _charge(ports, request, now_gregorian)
        setattr(report, state, getattr(report, state) + 1)
        report.details.append(f"{request['account_id']}: {state} {note}")
        store.put(
            TOPUPS_DB,
            {**request, "state": "queued" if state == "retrying" else state, "note": note, "handled_at": now_gregorian},
        )
    return report


def _charge(ports: CardPorts, request: dict[str, Any], now: int) -> tuple[str, str]:
    store, account_id = ports.billing.store, request["account_id"]
    settings = auto_topup_settings(store, account_id)
    day = date.fromisoformat(request["day"])  # the account's local day the pass saw the balance fall
    balance = LedgerBook(store, ports.billing.design_docs).current_balance(account_id, now)
    if not topup_due(settings, balance, now):
        return "skipped", "no longer due (balance, 24 hours, or switched off)"
    assert settings is not None
    db = account_db(account_id)
    update_doc(store, db, AUTO_TOPUP_DOC_ID, {"last_attempt_at": now})  # before the card: never twice in 24 h
    try:
        record, _ = top_up(ports, account_id, settings.amount, request["_id"], by="auto_topup", reason="topup")
    except CardError as error:
        if error.status == 503 and claim_of(store, db, "topup", request["_id"]).doc is None:
            update_doc(store, db, AUTO_TOPUP_DOC_ID, {"last_attempt_at": settings.last_attempt_at})
            return "retrying", f"the card gateway could not be asked: {error.reason}"
        return _failed(store, account_id, settings, error.reason, day, now)
    if record["state"] != "charged":
        return _failed(store, account_id, settings, record.get("reason") or record["state"], day, now)
    update_doc(store, db, AUTO_TOPUP_DOC_ID, after_attempt(settings, charged=True, reason="", now_gregorian=now))
    queue_notices(
        store,
        account_id,
        [
            NoticeDraft(
                "topup_succeeded",
                day,
                {
                    "amount": settings.amount,
                    "balance": balance + settings.amount,
                    "transaction_id": record.get("transaction_id"),
                },
            )
        ],
        now,
    )
    return "charged", str(record.get("transaction_id"))


def _failed(
    store: DocumentStore, account_id: str, settings: AutoTopUp, reason: str, day: date, now: int
) -> tuple[str, str]:
    changes = after_attempt(settings, charged=False, reason=reason, now_gregorian=now)
    update_doc(store, account_db(account_id), AUTO_TOPUP_DOC_ID, changes)
    queue_notices(
        store,
        account_id,
        [
            NoticeDraft(
                "topup_failed",
                day,
                {"amount": settings.amount, "reason": reason, "switched_off": "disabled_reason" in changes},
            )
        ],
        now,
    )
    return "failed", reason
