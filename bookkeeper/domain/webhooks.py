"""Outbound webhooks: the billing events a reseller's own systems can subscribe to, how each is
identified (so that the same event, seen twice, is delivered once), how a delivery is signed,
and how long a failing one is retried.

The signature is HMAC-SHA256 with the hook's secret over "<timestamp>.<body>", sent as
`Kazbill-Signature: t=<unix seconds>,v1=<hex>`: the receiver recomputes it from the raw body
and refuses a timestamp too old, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Kazbill's billing events (bookkeeper.services.billing.events) → the webhook event types.
WEBHOOK_EVENTS: Mapping[str, str] = {
    "posted": "payment.received",  # money in only (see is_payment)
    "documents_issued": "invoice.issued",
    "blocked": "account.blocked",
    "unblocked": "account.unblocked",
    "low_balance": "balance.low",
    "period_opened": "period.opened",
    "trial_expired": "trial.expired",
}
EVENT_TYPES = tuple(WEBHOOK_EVENTS.values())
TEST_EVENT = "webhook.test"
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 minutes apart, then it is a failure a person sees
FIRST_RETRY_S, LONGEST_RETRY_S = 30, 3600
MAX_HOOKS = 10  # per reseller
MAX_URL = 500


class HookError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str  # deterministic: the same billing event twice is the same webhook event
    event_type: str
    account_id: str
    data: Mapping[str, Any]


def webhook_event(name: str, account_id: str, details: Mapping[str, Any], now_gregorian: int) -> WebhookEvent | None:
    """The webhook event a billing event is, if any; its id says which occurrence it is: the
    ledger entry of a payment, the period of an opening or of its documents, the day of a
    reminder, the moment of a block (a block lifted and put back is a new event)."""
    event_type = WEBHOOK_EVENTS.get(name)
    if event_type is None or (name == "posted" and not is_payment(details)):
        return None
    occurrence = {
        "posted": details.get("entry_id"),
        "documents_issued": details.get("period"),
        "period_opened": details.get("period_start") or details.get("start") or details.get("period"),
        "low_balance": details.get("day"),
        "trial_expired": "once",
    }.get(name, now_gregorian)
    return WebhookEvent(f"{event_type}:{account_id}:{occurrence}", event_type, account_id, dict(details))


def is_payment(details: Mapping[str, Any]) -> bool:
    return details.get("ledger_type", "credit") == "credit"


def delivery_id(hook_id: str, event_id: str) -> str:
    return f"delivery-{hook_id}-{hashlib.sha256(event_id.encode()).hexdigest()[:24]}"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def retry_delay_s(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: doubling, capped at an hour."""
    return min(LONGEST_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS


def checked_hook(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """A hook's settings as a reseller sends them: `url` (http or https), `events` (a list of
    EVENT_TYPES; all of them when left out at creation), `enabled`. HookError names the field."""
    unknown = sorted(set(data) - {"url", "events", "enabled"})
    if unknown:
        raise HookError(unknown[0], "unknown field; expected url, events, enabled")
    hook: dict[str, Any] = {}
    if "url" in data or creating:
        url = data.get("url")
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= MAX_URL else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise HookError("url", f"must be an http or https URL of at most {MAX_URL} characters")
        if parts.username or parts.password:
            raise HookError("url", "must not carry a user or password; the signature authenticates Kazbill")
        hook["url"] = url
    if "events" in data or creating:
        events = data.get("events", list(EVENT_TYPES))
        if not isinstance(events, list) or not events or not all(event in EVENT_TYPES for event in events):
            raise HookError("events", f"must be a non-empty list of: {', '.join(EVENT_TYPES)}")
        hook["events"] = sorted(set(events))
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise HookError("enabled", "must be true or false")
        hook["enabled"] = data["enabled"]
    return hook
