"""Queuing webhook deliveries from billing events, with the billing itself: one delivery per
event and subscribed hook, with an id made of both, so the same event seen twice (a replay, a
batch run again) queues one delivery. Delivering is another step's (delivery.py): a slow or
dead receiver never holds up billing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bookkeeper.domain.webhooks import WebhookEvent, delivery_id, webhook_event
from bookkeeper.ports import DatabaseNotFound, DocumentStore
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.hooks_out.subscriptions import subscribers

DELIVERIES_DB = "kazbill_webhook_deliveries"


def queue_webhooks(store: DocumentStore, events: Iterable[BillingEvent], now_gregorian: int) -> list[str]:
    """The deliveries queued now (ids); none when nobody above subscribed to these events."""
    webhook_events = [
        found
        for event in events
        if (found := webhook_event(event.name, event.account_id, event.details, now_gregorian)) is not None
    ]
    docs = [
        delivery_doc(reseller_id, hook, found, now_gregorian)
        for found in webhook_events
        for reseller_id, hook in subscribers(store, found.account_id, found.event_type)
    ]
    return write_deliveries(store, docs)


def delivery_doc(reseller_id: str, hook: dict[str, Any], event: WebhookEvent, now_gregorian: int) -> dict[str, Any]:
    return {
        "_id": delivery_id(hook["id"], event.event_id),
        "pvt_type": "webhook_delivery",
        "reseller_id": reseller_id,
        "hook_id": hook["id"],
        "event": {
            "id": event.event_id,
            "type": event.event_type,
            "account_id": event.account_id,
            "created": now_gregorian,
            "data": json.loads(json.dumps(dict(event.data), default=str)),
        },
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now_gregorian,
        "history": [],
        "pvt_created": now_gregorian,
    }


def write_deliveries(store: DocumentStore, docs: list[dict[str, Any]]) -> list[str]:
    if not docs:
        return []
    try:
        results = store.bulk_put(DELIVERIES_DB, docs)
    except DatabaseNotFound:
        store.ensure_database(DELIVERIES_DB)
        results = store.bulk_put(DELIVERIES_DB, docs)
    return [result.id for result in results if result.ok]  # a conflict: queued before
