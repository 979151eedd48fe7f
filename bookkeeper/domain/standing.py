"""Good standing: may an account go on using the service, and should it be blocked.

An account is in good standing while its balance and its credit line together stay at zero or
above, so an account that has paid exactly what it owes is fine. A new account may be given some
days of grace in which an empty balance does not count against it. A manual block (an operator's
decision) always wins, and only an operator lifts it; a block Kazbill put on because of money is
lifted by Kazbill as soon as the money is there again. Blocking for money happens only where the
reseller enabled it.

Trials are decided here too: a trial converts to a paying account once its balance covers a
month, and expires, once, when its last day has passed without that.

Everything is decided from values passed in, today's date included, so every rule is a plain
function of its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum

from bookkeeper.domain.money import to_major

GOOD_STANDING = "good_standing"
DELINQUENT = "delinquent"


@dataclass(frozen=True)
class Standing:
    status: str  # GOOD_STANDING | DELINQUENT
    blocked: bool
    reasons: tuple[str, ...] = ()  # human words, for the reseller's screens and the audit trail

    @property
    def in_good_standing(self) -> bool:
        return self.status == GOOD_STANDING


class StandingChange(StrEnum):
    """What happened between two evaluations; the values are the event names that get published."""

    BECAME_DELINQUENT = "became_delinquent"
    RESTORED_GOOD_STANDING = "restored_good_standing"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"


@dataclass(frozen=True)
class TrialDecision:
    action: str  # "none" | "convert" | "expire"
    billing_day: int | None = None  # set on "convert": the account's billing day from now on


def _whole(value: object, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number of units, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _day(value: object, name: str) -> date:
    # datetime is a date subclass; letting one through would compare instants with local days.
    if type(value) is not date:
        raise TypeError(f"{name} must be a date, got {value!r}")
    return value


def _show(amount: int) -> str:
    """Units as currency units for people: two decimals, more only when the cents are not whole,
    so one unit below zero reads -0.0001 rather than a misleading -0.00."""
    with localcontext() as context:
        context.prec = 60  # no amount is long enough to be rounded here
        major = to_major(amount)
        cents = major.quantize(Decimal("0.01"))
        return f"{cents if cents == major else major.normalize():f}"


def unchanged_by_debits(stored: Standing | None, amount_to_restore: int, balance: int, credit_line: int) -> bool:
    """Whether debits that left `balance` cannot have changed a standing last evaluated as
    `stored`: a debit only lowers the balance, so an account that was in good standing, unblocked
    and owing nothing to restore stays so while its balance still covers its credit line. False
    for anything else (never evaluated, delinquent, blocked, or the line crossed), and the caller
    evaluates it whole."""
    _whole(balance, "balance")
    _whole(credit_line, "credit line", minimum=0)
    return (
        stored is not None
        and stored.in_good_standing
        and not stored.blocked
        and amount_to_restore == 0
        and balance + credit_line >= 0
    )


def evaluate_standing(
    *,
    balance: int,
    credit_line: int,
    manual_block: bool,
    blocking_enabled: bool,
    created_day: date,
    today: date,
    grace_days: int,
    currently_blocked: bool,
    unpaid_period: bool = False,
) -> Standing:
    """The standing follows from the inputs alone. `currently_blocked` (what Kazoo shows now) does
    not change the answer: with manual blocks held apart in `manual_block`, any other block is
    Kazbill's own, and it is lifted the moment the rules no longer call for it. It is taken so
    that callers state it, and so that evaluating a result again gives the same result.
    `unpaid_period`: a prepay period whose charges the account could not cover is pending, and
    the account is delinquent until a payment opens it, whatever the balance says meanwhile."""
    _whole(balance, "balance")
    _whole(credit_line, "credit line", minimum=0)
    _whole(grace_days, "grace days", minimum=0)
    _day(created_day, "created day")
    _day(today, "today")
    if not all(isinstance(flag, bool) for flag in (manual_block, blocking_enabled, currently_blocked)):
        raise TypeError("manual_block, blocking_enabled and currently_blocked must be true or false")

    reasons = []
    covered = balance + credit_line >= 0 and not unpaid_period
    grace_ends = created_day + timedelta(days=grace_days)  # the first day without grace
    in_grace = today < grace_ends
    if not covered:
        shortfall = (
            "the period's charges are not covered"
            if unpaid_period
            else f"balance {_show(balance)} below credit line" + (f" of {_show(credit_line)}" if credit_line else "")
        )
        if in_grace:
            shortfall += f", allowed in new-account grace through {(grace_ends - timedelta(days=1)).isoformat()}"
        reasons.append(shortfall)
    if manual_block:
        reasons.append("blocked manually")
    good = (covered or in_grace) and not manual_block
    blocked = manual_block or (blocking_enabled and not good)
    if blocked and not manual_block:
        reasons.append("blocked automatically for lack of funds")
    return Standing(GOOD_STANDING if good else DELINQUENT, blocked, tuple(reasons))


def standing_events(before: Standing | None, after: Standing) -> list[str]:
    """Events between two evaluations, status first. With no earlier evaluation the account is
    taken to have started in good standing and unblocked, as every new account does."""
    was_good = before is None or before.in_good_standing
    was_blocked = before is not None and before.blocked
    events: list[str] = []
    if was_good and not after.in_good_standing:
        events.append(StandingChange.BECAME_DELINQUENT)
    elif not was_good and after.in_good_standing:
        events.append(StandingChange.RESTORED_GOOD_STANDING)
    if after.blocked and not was_blocked:
        events.append(StandingChange.BLOCKED)
    elif was_blocked and not after.blocked:
        events.append(StandingChange.UNBLOCKED)
    return events


def decide_trial(
    *,
    trial_expires_day: date | None,
    today: date,
    balance: int,
    monthly_cost: int,
    already_expired_notified: bool,
) -> TrialDecision:
    """A trial runs through its expiry day. While it runs, a positive balance that covers a month
    converts it, and the day of conversion becomes the billing day (any day 1-31: periods clamp
    short months). A trial with nothing on it does not convert just because a month of nothing
    costs nothing. Once the expiry day has passed it expires, and says so once; converting an
    expired trial is then an operator's decision, not a side effect of a payment."""
    _day(today, "today")
    _whole(balance, "balance")
    _whole(monthly_cost, "monthly cost", minimum=0)
    if trial_expires_day is None:
        return TrialDecision("none")
    if today <= _day(trial_expires_day, "trial expiry day"):
        if balance > 0 and balance >= monthly_cost:
            return TrialDecision("convert", today.day)
        return TrialDecision("none")
    return TrialDecision("none" if already_expired_notified else "expire")


def first_billed_day(*, created_day: date, trial_expires_day: date | None) -> date:
    """The first day an account is charged for: the day it was created; for a trial that expired
    without converting, the day after its expiry day (a trial runs through that day, and its
    days are not charged whatever it becomes). A converted trial has no expiry any more: its
    billing day is the day it converted, and its periods begin there."""
    if trial_expires_day is None:
        return created_day
    return max(created_day, trial_expires_day + timedelta(days=1))


def amount_to_restore(*, balance: int, credit_line: int, unpaid_charges: int = 0) -> int:
    """What a payment must bring for the account to be covered again: the pending period's
    charges (none when no period waits) beyond what the balance and the credit line hold; 0 when
    nothing is short. A manual block is lifted by the reseller, not by a payment: the caller
    does not show this amount for it."""
    short = _whole(unpaid_charges, "unpaid charges", minimum=0) - (
        _whole(balance, "balance") + _whole(credit_line, "credit line", minimum=0)
    )
    return max(0, short)


def funds_check(*, balance: int, credit_line: int, mrc_total: int) -> bool:
    """Whether the account can pay `mrc_total` (its monthly recurring charges) now."""
    return _whole(mrc_total, "monthly recurring total") <= _whole(balance, "balance") + _whole(
        credit_line, "credit line"
    )
