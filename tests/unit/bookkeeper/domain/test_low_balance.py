"""Low-balance warnings: once per crossing, then on the spell's reminder days, never daily, and
never to an account nothing is taken from (the demo month sent 71 of them, 30 to an account
with balance 0 and nothing to pay)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.low_balance import (
    DEFAULT_REMINDER_DAYS,
    LowBalanceState,
    low_balance_day,
    rearm_level,
    valid_reminder_days,
)

RUB = 10_000
THRESHOLD = 500 * RUB
NOV = date(2026, 11, 1)


def run(
    balances: list[int],
    *,
    charged_monthly: bool = True,
    days=DEFAULT_REMINDER_DAYS,
    state: LowBalanceState = LowBalanceState(),
) -> list[int]:
    """The days of November (1-based) a warning went out on, one crawl a day."""
    warned = []
    for n, balance in enumerate(balances):
        state, draft = low_balance_day(
            state,
            today=NOV + timedelta(days=n),
            balance=balance,
            threshold=THRESHOLD,
            charged_monthly=charged_monthly,
            reminder_days=days,
        )
        if draft is not None:
            warned.append(n + 1)
    return warned


def test_a_month_below_the_threshold_is_warned_on_its_first_third_and_seventh_days():
    assert run([1_000 * RUB] * 4 + [400 * RUB] * 26) == [5, 7, 11]


def test_an_account_with_nothing_to_pay_that_was_never_above_the_threshold_is_never_warned():
    assert run([0] * 30, charged_monthly=False) == []
    # Once it has had money, losing it (to calls, say) is a crossing like any other.
    assert run([600 * RUB] * 2 + [100 * RUB] * 10, charged_monthly=False) == [3, 5, 9]


def test_a_balance_hovering_around_the_threshold_does_not_start_a_spell_a_day():
    # 490, 520, 490, 520...: back above the threshold, but not above 550, so the spell goes on.
    hovering = [490 * RUB if n % 2 == 0 else 520 * RUB for n in range(14)]
    assert run(hovering) == [1, 3, 7]
    # Paid up to 550.00 (the threshold and a tenth): the next fall is a new crossing.
    assert run([400 * RUB, 550 * RUB, 400 * RUB]) == [1, 3]


def test_the_reseller_chooses_the_days_and_a_warning_says_since_when():
    state, draft = low_balance_day(
        LowBalanceState(),
        today=NOV,
        balance=100 * RUB,
        threshold=THRESHOLD,
        charged_monthly=True,
        reminder_days=(1, 14),
    )
    assert draft is not None and draft.details == {
        "balance": 100 * RUB,
        "threshold": THRESHOLD,
        "below_since": "2026-11-01",
        "warning": 1,
        "warnings": 2,
    }
    assert run([100 * RUB] * 20, days=(1, 14)) == [1, 14]
    assert valid_reminder_days([1, 3, 7]) == (1, 3, 7)
    for bad in ([], [3, 1], [1, 1], [0, 2], [1, 91], ["1"], [True], list(range(1, 12)), "1,3,7"):
        assert valid_reminder_days(bad) is None


@given(st.lists(st.integers(-1_000 * RUB, 2_000 * RUB), max_size=60), st.booleans())
def test_warnings_never_exceed_the_reminder_days_per_spell_and_need_a_low_balance(balances, charged):
    """Invariants: a warning only while the balance is below the threshold; within one spell (no
    day at or above the re-arm level in between) at most as many warnings as reminder days; a
    day at or above the re-arm level never warns."""
    state, spell_warnings = LowBalanceState(), 0
    for n, balance in enumerate(balances):
        state, draft = low_balance_day(
            state, today=NOV + timedelta(days=n), balance=balance, threshold=THRESHOLD, charged_monthly=charged
        )
        if balance >= rearm_level(THRESHOLD):
            spell_warnings = 0
            assert draft is None and state.below_since is None
        if draft is not None:
            spell_warnings += 1
            assert balance < THRESHOLD and state.below_since is not None
        assert spell_warnings <= len(DEFAULT_REMINDER_DAYS)
    if not charged and all(balance < rearm_level(THRESHOLD) for balance in balances):
        assert state.below_since is None  # never above, nothing to pay: no spell at all
