"""Auto top-up's rules: when it is due, the once-in-24-hours limit, and switching off."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.auto_topup import (
    MAX_FAILURES,
    MIN_INTERVAL_S,
    AutoTopUp,
    after_attempt,
    parse_auto_topup,
    topup_due,
)
from bookkeeper.domain.gateways.amounts import GatewayFieldError

SETTINGS = AutoTopUp(enabled=True, threshold=500_000, amount=2_000_000)
NOW = 64_000_000_000


def test_worked_example_due_below_the_threshold_once_a_day():
    assert topup_due(SETTINGS, 499_999, NOW)
    assert not topup_due(SETTINGS, 500_000, NOW)
    tried = AutoTopUp(**{**SETTINGS.__dict__, "last_attempt_at": NOW - MIN_INTERVAL_S + 1})
    assert not topup_due(tried, 0, NOW)
    assert topup_due(tried, 0, NOW + 1)
    assert not topup_due(None, -(10**9), NOW)
    assert not topup_due(AutoTopUp(False, 500_000, 2_000_000), 0, NOW)


def test_the_third_decline_in_a_row_switches_it_off_and_a_success_clears_the_count():
    settings = SETTINGS
    for attempt in range(1, MAX_FAILURES + 1):
        changes = after_attempt(settings, charged=False, reason="Do Not Honor", now_gregorian=NOW)
        settings = AutoTopUp(**{**settings.__dict__, **{k: v for k, v in changes.items() if k != "last_outcome"}})
        assert settings.failures == attempt
        assert settings.active == (attempt < MAX_FAILURES)
    assert "Do Not Honor" in settings.disabled_reason
    assert after_attempt(settings, charged=True, reason="", now_gregorian=NOW)["failures"] == 0


@pytest.mark.parametrize(
    "doc, field",
    [
        ({"enabled": True, "amount": 1}, "threshold"),
        ({"enabled": "yes", "threshold": 1, "amount": 1}, "enabled"),
        ({"threshold": 1, "amount": 1.5}, "amount"),
    ],
)
def test_a_broken_document_names_the_field(doc, field):
    with pytest.raises(GatewayFieldError) as refused:
        parse_auto_topup(doc)
    assert refused.value.field == field


@given(st.lists(st.tuples(st.integers(0, 3 * MIN_INTERVAL_S), st.integers(-(10**7), 10**7)), max_size=40))
def test_never_two_attempts_within_24_hours(steps):
    """Whatever the balances seen and however often it is asked, attempts are 24 hours apart."""
    settings, now, attempts = SETTINGS, NOW, []
    for gap, balance in steps:
        now += gap
        if topup_due(settings, balance, now):
            attempts.append(now)
            changes = after_attempt(settings, charged=True, reason="", now_gregorian=now)
            settings = AutoTopUp(**{**settings.__dict__, "failures": 0, "last_attempt_at": changes["last_attempt_at"]})
    assert all(later - earlier >= MIN_INTERVAL_S for earlier, later in pairwise(attempts))
