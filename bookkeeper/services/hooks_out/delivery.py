"""Delivering queued webhooks: each due delivery is claimed (so two deliverers never send it at
once), POSTed signed to its hook's URL, and recorded with its outcome; a receiver that fails or
does not answer is tried again later, each wait twice the one before, and after the last
attempt the delivery is failed where the reseller's delivery log shows it.

Delivery is at least once: a receiver that answered 2xx too late for the record (a crash in
between) gets the delivery again, with the same `Kazbill-Delivery` id to tell it by.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.domain.webhooks import TEST_EVENT, WebhookEvent, gives_up, retry_delay_s, signature_header
from bookkeeper.ports import (
    Conflict,
    DatabaseNotFound,
    DocumentStore,
    NotFound,
    ViewQuery,
    WebhookPoster,
    WebhookUnreachable,
)
from bookkeeper.services.hooks_out.outbox import DELIVERIES_DB, delivery_doc, write_deliveries
from bookkeeper.services.hooks_out.subscriptions import find_hook

log = logging.getLogger("kazbill.webhooks")
KEPT_ATTEMPTS = 20  # the delivery log keeps this many attempts of one delivery


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    ids: list[str] = field(default_factory=list)


def deliver_due(store: DocumentStore, poster: WebhookPoster, now_gregorian: int, limit: int = 100) -> DeliveryReport:
    report = DeliveryReport()
    try:
        rows = store.query_view(
            DELIVERIES_DB,
            "kazbill_webhook_deliveries",
            "due",
            ViewQuery(end_key=now_gregorian, limit=limit, include_docs=True),
        ).rows
    except DatabaseNotFound:
        return report
    for row in rows:
        if row.doc is None:
            continue
        done = deliver(store, poster, row.doc, now_gregorian)
        if done is None:
            continue  # another deliverer has it
        report.ids.append(done["_id"])
        if done["state"] == "delivered":
            report.delivered += 1
        elif done["state"] == "failed":
            report.failed += 1
        else:
            report.retrying += 1
    return report


def send_test(
    store: DocumentStore, poster: WebhookPoster, reseller_id: str, hook_id: str, now_gregorian: int
) -> dict[str, Any]:
    """The reseller's test button: a `webhook.test` event delivered now, once, and logged."""
    hook = find_hook(store, reseller_id, hook_id)
    event = WebhookEvent(
        f"{TEST_EVENT}:{reseller_id}:{now_gregorian}", TEST_EVENT, reseller_id, {"message": "a test from Kazbill"}
    )
    doc = delivery_doc(reseller_id, hook, event, now_gregorian)
    write_deliveries(store, [doc])
    done = deliver(store, poster, store.get(DELIVERIES_DB, doc["_id"]), now_gregorian, retry=False)
    return done or store.get(DELIVERIES_DB, doc["_id"])


def deliver(
    store: DocumentStore, poster: WebhookPoster, delivery: dict[str, Any], now_gregorian: int, *, retry: bool = True
) -> dict[str, Any] | None:
    """One attempt; the delivery as recorded after it, or None when another deliverer claimed it."""
    try:
        claimed = _save(store, {**delivery, "state": "sending", "claimed_at": now_gregorian})
    except Conflict:
        return None
    try:
        hook = find_hook(store, delivery["reseller_id"], delivery["hook_id"])
    except NotFound:
        return _save(store, {**claimed, "state": "failed", "reason": "the webhook was deleted"})
    if not hook.get("enabled", True):
        return _save(store, {**claimed, "state": "failed", "reason": "the webhook was switched off"})
    status, error = _post(poster, hook, delivery, now_gregorian)
    attempts = claimed.get("attempts", 0) + 1
    history = [*claimed.get("history", []), {"at": now_gregorian, "status": status, "error": error}]
    outcome: dict[str, Any] = {"attempts": attempts, "history": history[-KEPT_ATTEMPTS:], "claimed_at": None}
    if error is None:
        outcome |= {"state": "delivered", "delivered_at": now_gregorian}
    elif not retry or gives_up(attempts):
        outcome |= {"state": "failed", "reason": error}
    else:
        outcome |= {"state": "pending", "next_attempt_at": now_gregorian + retry_delay_s(attempts)}
    return _save(store, {**claimed, **outcome})


def _post(
    poster: WebhookPoster, hook: dict[str, Any], delivery: dict[str, Any], now_gregorian: int
) -> tuple[int | None, str | None]:
    event = delivery["event"]
    sent_at = from_gregorian_seconds(now_gregorian)
    body = json.dumps(
        {
            "id": event["id"],
            "type": event["type"],
            "created": from_gregorian_seconds(event["created"]),
            "account_id": event["account_id"],
            "reseller_id": delivery["reseller_id"],
            "data": event.get("data", {}),
        },
        sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Kazbill-Webhooks/1",
        "Kazbill-Event": event["type"],
        "Kazbill-Delivery": delivery["_id"],
        "Kazbill-Signature": signature_header(str(hook["secret"]), sent_at, body),
    }
    try:
        status = poster.post(str(hook["url"]), body, headers)
    except WebhookUnreachable as error:
        log.info("webhook %s to %s: %s", delivery["_id"], hook["url"], error)
        return None, str(error)[:300]
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def _save(store: DocumentStore, doc: dict[str, Any]) -> dict[str, Any]:
    result = store.put(DELIVERIES_DB, doc)
    return {**doc, "_rev": result.rev}


def delivery_log(store: DocumentStore, hook_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The hook's deliveries, newest first."""
    try:
        rows = store.query_view(
            DELIVERIES_DB,
            "kazbill_webhook_deliveries",
            "by_hook",
            ViewQuery(start_key=[hook_id, {}], end_key=[hook_id], descending=True, limit=limit, include_docs=True),
        ).rows
    except DatabaseNotFound:
        return []
    return [row.doc for row in rows if row.doc is not None]
