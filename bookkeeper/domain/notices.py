"""Notices to an account's admins: which billing events and which daily reminders deserve an
email, how often, and how long a failed email is retried.

Every notice has a deterministic id made of the account, the kind and the day it is about, so
that the same event seen twice (a replay, both bridges, a crashed batch run again) queues one
email, and a reminder goes out at most once a day however often the account is crawled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Billing events that tell the account something it must know (BILLING_RULES: notifications).
EVENT_NOTICES: Mapping[str, str] = {
    "period_opened": "period_charged",
    "period_pending": "period_unpaid",
    "services_cancelled": "services_cancelled",
    "blocked": "service_suspended",
    "trial_expired": "trial_expired",
}
REMINDER_KINDS = ("low_balance", "period_approaching")
TOPUP_KINDS = ("topup_succeeded", "topup_failed")  # queued by the auto top-up's charging step
NOTICE_KINDS = tuple(EVENT_NOTICES.values()) + REMINDER_KINDS + TOPUP_KINDS

PERIOD_APPROACHING_DAYS = 3  # remind this many days before the next period, while it can be paid
MAX_SEND_ATTEMPTS = 6
FIRST_RETRY_S = 60
LONGEST_RETRY_S = 3600


@dataclass(frozen=True)
class NoticeDraft:
    kind: str
    day: date  # the day the notice is about: with the kind, it throttles to one a day
    details: Mapping[str, Any] = field(default_factory=dict)


def notice_id(account_id: str, draft: NoticeDraft) -> str:
    return f"notice-{account_id}-{draft.day.isoformat()}-{draft.kind}"


def calls_for_notice(event_name: str) -> bool:
    return event_name in EVENT_NOTICES or event_name in REMINDER_KINDS


def notices_for_event(name: str, day: date, details: Mapping[str, Any]) -> list[NoticeDraft]:
    kind = EVENT_NOTICES.get(name)
    return [NoticeDraft(kind, day, dict(details))] if kind else []


def daily_reminders(
    *, today: date, next_period_start: date, balance: int, credit_line: int, next_period_cost: int
) -> list[NoticeDraft]:
    """What the daily crawl reminds an account of, besides a low balance (low_balance.py):
    the next period starts within PERIOD_APPROACHING_DAYS days and what the account can spend
    (balance plus credit line) does not cover its monthly charges."""
    reminders: list[NoticeDraft] = []
    days_left = (next_period_start - today).days
    if 0 < days_left <= PERIOD_APPROACHING_DAYS and balance + credit_line < next_period_cost:
        reminders.append(
            NoticeDraft(
                "period_approaching",
                today,
                {
                    "balance": balance,
                    "credit_line": credit_line,
                    "next_period_cost": next_period_cost,
                    "next_period_start": next_period_start.isoformat(),
                    "shortfall": next_period_cost - balance - credit_line,
                },
            )
        )
    return reminders


def retry_delay_s(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: doubling, capped at an hour."""
    return min(LONGEST_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_SEND_ATTEMPTS
