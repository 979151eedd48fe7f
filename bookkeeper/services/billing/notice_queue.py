"""The notices a billing pass's events call for, queued with the pass itself, whoever asked for
it (a change, the crawl, a payment), so that a notice is never lost between the charge and the
email; the mailer (mail/notices.py) sends them. Queuing is idempotent: the notice id is
deterministic (bookkeeper/domain/notices.py), so a pass run twice queues nothing new."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from bookkeeper.domain.notices import REMINDER_KINDS, NoticeDraft, notice_id, notices_for_event
from bookkeeper.ports import DatabaseNotFound, DocumentStore
from bookkeeper.services.billing.events import BillingEvent

NOTICES_DB = "kazbill_notices"


def drafts_from_events(events: Iterable[BillingEvent], day: date) -> dict[str, list[NoticeDraft]]:
    """Per account, the notices its events call for. A reminder carries its own day."""
    drafts: dict[str, list[NoticeDraft]] = {}
    for event in events:
        details = dict(event.details)
        if event.name in REMINDER_KINDS:
            found = [NoticeDraft(event.name, date.fromisoformat(details.pop("day")), details)]
        else:
            found = notices_for_event(event.name, day, details)
        drafts.setdefault(event.account_id, []).extend(found)
    return {account: found for account, found in drafts.items() if found}


def queue_notices(
    store: DocumentStore, account_id: str, drafts: Sequence[NoticeDraft], now_gregorian: int
) -> list[str]:
    """Writes the notices not queued before; returns the ids written now."""
    docs = [
        {
            "_id": notice_id(account_id, draft),
            "pvt_type": "notice",
            "account_id": account_id,
            "kind": draft.kind,
            "day": draft.day.isoformat(),
            "details": dict(draft.details),
            "state": "queued",
            "attempts": 0,
            "next_attempt_at": now_gregorian,
            "pvt_created": now_gregorian,
            "history": [],
        }
        for draft in drafts
    ]
    if not docs:
        return []
    try:
        results = store.bulk_put(NOTICES_DB, docs)
    except DatabaseNotFound:
        store.ensure_database(NOTICES_DB)
        results = store.bulk_put(NOTICES_DB, docs)
    return [result.id for result in results if result.ok]  # a conflict: queued before, by an earlier run
