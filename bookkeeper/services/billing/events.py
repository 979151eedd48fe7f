"""What a handler reports back: the events it caused, for the actors and the notifier."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class BillingEvent:
    # charged, period_opened, period_pending, services_cancelled, billing_day_fixed,
    # became_delinquent, restored_good_standing, blocked, unblocked, billing_failed
    name: str
    account_id: str
    details: Mapping[str, Any] = field(default_factory=dict)
