"""Low-balance warnings: once when the balance crosses below the reseller's threshold, then on a
few more days of the same spell, never every day.

A spell begins on the first daily crawl that finds the balance below the threshold, and ends
only when the balance is back at the threshold plus a tenth of it (hysteresis: a balance that
hovers around the threshold does not begin a new spell with every call and payment). Within a
spell a warning goes out on the days the reseller lists, counted from the spell's first day
(default 1, 3 and 7), and only while the balance is still below the threshold.

An account that has never been above the threshold and has no monthly charges is not warned at
all: nothing is ever taken from it, so a low balance costs it nothing (Nordic Voice, balance 0
and nothing to pay, was sent thirty warnings in a month). Once it has been above the threshold,
a fall below it is a real crossing, calls or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bookkeeper.domain.notices import NoticeDraft

DEFAULT_REMINDER_DAYS = (1, 3, 7)
LONGEST_SPELL_DAY = 90


@dataclass(frozen=True)
class LowBalanceState:
    below_since: date | None = None  # the first day of the current spell; None: not in one
    armed: bool = False  # seen at or above the re-arm level since the last spell ended

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> LowBalanceState:
        doc = doc or {}
        since = doc.get("below_since")
        return cls(date.fromisoformat(since) if isinstance(since, str) else None, doc.get("armed") is True)

    def as_doc(self) -> dict[str, Any]:
        return {"below_since": self.below_since.isoformat() if self.below_since else None, "armed": self.armed}


def rearm_level(threshold: int) -> int:
    """The balance that ends a spell: the threshold plus a tenth of its size."""
    return threshold + abs(threshold) // 10


def low_balance_day(
    state: LowBalanceState,
    *,
    today: date,
    balance: int,
    threshold: int,
    charged_monthly: bool,
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
) -> tuple[LowBalanceState, NoticeDraft | None]:
    """The state after today's crawl, and the warning it sends today, if any."""
    if balance >= rearm_level(threshold):
        return LowBalanceState(None, True), None
    if state.below_since is None or state.below_since > today:
        if balance >= threshold or not (state.armed or charged_monthly):
            return state, None
        state = LowBalanceState(today, False)
    assert state.below_since is not None
    spell_day = (today - state.below_since).days + 1
    if balance >= threshold or spell_day not in reminder_days:
        return state, None
    return state, NoticeDraft(
        "low_balance",
        today,
        {
            "balance": balance,
            "threshold": threshold,
            "below_since": state.below_since.isoformat(),
            "warning": reminder_days.index(spell_day) + 1,
            "warnings": len(reminder_days),
        },
    )


def valid_reminder_days(value: object) -> tuple[int, ...] | None:
    """The reseller's list of spell days, checked: 1 to 10 whole days from 1 to 90, ascending."""
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 10:
        return None
    if not all(isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= LONGEST_SPELL_DAY for day in value):
        return None
    days = tuple(value)
    return days if list(days) == sorted(set(days)) else None
