"""What a handler reports back: the events it caused, for the actors and the notifier.

Every name an event can have is listed in `EventName`, so mypy checks each place that makes one
and each place that compares one; what a name means is said where it is listed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Refusal = Literal[
    "billing_failed",  # the account's documents cannot be billed by (a failure is recorded)
    "call_refused",  # a call that cannot be rated for this account
    "posting_refused",  # a payment or manual posting for an account that cannot take it
]
EventName = Literal[
    Refusal,
    # a billing pass
    "charged",
    "period_opened",
    "period_pending",
    "services_cancelled",
    "billing_day_fixed",
    "account_closed",
    "trial_converted",
    "trial_expired",
    "topup_queued",
    "notices_queued",
    # standing (domain/standing.py, StandingChange)
    "became_delinquent",
    "restored_good_standing",
    "blocked",
    "unblocked",
    # reminders a crawl raises (domain/notices.py, REMINDER_KINDS)
    "low_balance",
    "period_approaching",
    # payments and postings
    "posted",
    "posting_duplicate",
    # calls
    "call_charged",
    "call_free",
    "call_duplicate",
    "call_debited_by_kazoo",
    "call_not_billable",
    "call_not_rated_here",
    "call_unrated",
    "call_left_to_jonny5",
    # documents
    "documents_issued",
    "documents_refused",
]


# The events a crawl's reminders and a standing change are reported as, by their domain names.
REMINDER_EVENTS: Mapping[str, EventName] = {"low_balance": "low_balance", "period_approaching": "period_approaching"}
STANDING_EVENTS: Mapping[str, EventName] = {
    "became_delinquent": "became_delinquent",
    "restored_good_standing": "restored_good_standing",
    "blocked": "blocked",
    "unblocked": "unblocked",
}


@dataclass(frozen=True)
class BillingEvent:
    name: EventName
    account_id: str
    details: Mapping[str, Any] = field(default_factory=dict)
