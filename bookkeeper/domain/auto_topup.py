"""Auto top-up: when an account's balance falls below its threshold, its saved card is charged
its top-up amount, at most once in 24 hours; a card that keeps failing switches it off.

The settings and what happened so far live in one document of the account (`kazbill_auto_topup`):
`enabled`, `threshold` and `amount` (units), then `failures` in a row, `last_attempt_at`
(Gregorian seconds) and, once switched off, `disabled_reason`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError

AUTO_TOPUP_DOC_ID = "kazbill_auto_topup"
MIN_INTERVAL_S = 24 * 3600
MAX_FAILURES = 3  # declines in a row before auto top-up is switched off until the admin turns it on again


@dataclass(frozen=True)
class AutoTopUp:
    enabled: bool
    threshold: int
    amount: int
    failures: int = 0
    last_attempt_at: int | None = None
    disabled_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.enabled and self.disabled_reason is None


def _units(doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise GatewayFieldError(key, "must be a positive whole number of units")
    return value


def parse_auto_topup(doc: Mapping[str, Any] | None) -> AutoTopUp | None:
    """None when the account never set auto top-up; GatewayFieldError for a broken document."""
    if not doc:
        return None
    if not isinstance(doc.get("enabled", False), bool):
        raise GatewayFieldError("enabled", "must be true or false")
    failures = doc.get("failures", 0)
    return AutoTopUp(
        enabled=doc.get("enabled", False),
        threshold=_units(doc, "threshold"),
        amount=_units(doc, "amount"),
        failures=failures if isinstance(failures, int) else 0,
        last_attempt_at=doc.get("last_attempt_at"),
        disabled_reason=doc.get("disabled_reason"),
    )


def topup_due(settings: AutoTopUp | None, balance: int, now_gregorian: int) -> bool:
    """Charge now? Below the threshold, switched on, and no attempt in the last 24 hours."""
    if settings is None or not settings.active or balance >= settings.threshold:
        return False
    return settings.last_attempt_at is None or now_gregorian - settings.last_attempt_at >= MIN_INTERVAL_S


def after_attempt(settings: AutoTopUp, *, charged: bool, reason: str, now_gregorian: int) -> dict[str, Any]:
    """The document's changes after one attempt: a success clears the failures; the
    MAX_FAILURES-th decline in a row switches auto top-up off, saying why."""
    failures = 0 if charged else settings.failures + 1
    changes: dict[str, Any] = {
        "failures": failures,
        "last_attempt_at": now_gregorian,
        "last_outcome": "charged" if charged else f"failed: {reason}",
    }
    if failures >= MAX_FAILURES:
        changes["disabled_reason"] = f"{failures} failed top-ups in a row; the last: {reason}"
    return changes
