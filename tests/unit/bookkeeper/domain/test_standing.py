"""Good standing, blocking and trials, as a reseller's support desk would explain them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.standing import (
    DELINQUENT,
    GOOD_STANDING,
    Standing,
    StandingChange,
    TrialDecision,
    decide_trial,
    evaluate_standing,
    first_billed_day,
    funds_check,
    standing_events,
    unchanged_by_debits,
)

RUB = 10_000
TODAY = date(2024, 3, 15)


def standing(**overrides) -> Standing:
    inputs = dict(
        balance=0,
        credit_line=0,
        manual_block=False,
        blocking_enabled=True,
        created_day=date(2024, 1, 1),
        today=TODAY,
        grace_days=0,
        currently_blocked=False,
    )
    return evaluate_standing(**{**inputs, **overrides})


# ----------------------------------------------------------------------------- standing


def test_a_brand_new_account_at_exactly_zero_is_in_good_standing():
    result = standing(balance=0, created_day=TODAY)
    assert result == Standing(GOOD_STANDING, blocked=False, reasons=())


def test_one_unit_below_zero_is_delinquent_and_blocked_when_blocking_is_enabled():
    result = standing(balance=-1)
    assert (result.status, result.blocked) == (DELINQUENT, True)
    assert result.reasons[0] == "balance -0.0001 below credit line"


def test_a_credit_line_covers_a_negative_balance_down_to_its_size():
    assert standing(balance=-100 * RUB, credit_line=100 * RUB).status == GOOD_STANDING
    result = standing(balance=-112 * RUB, credit_line=100 * RUB)
    assert result.status == DELINQUENT
    assert result.reasons[0] == "balance -112.00 below credit line of 100.00"


def test_the_reasons_say_the_balance_in_currency_units():
    assert standing(balance=-12 * RUB).reasons[0] == "balance -12.00 below credit line"


def test_within_the_new_account_grace_an_empty_balance_is_not_delinquency():
    created = TODAY - timedelta(days=2)
    inside = standing(balance=-50 * RUB, created_day=created, grace_days=3)
    assert (inside.status, inside.blocked) == (GOOD_STANDING, False)
    assert inside.reasons == ("balance -50.00 below credit line, allowed in new-account grace through 2024-03-15",)
    on_the_day_grace_ends = standing(balance=-50 * RUB, created_day=TODAY - timedelta(days=3), grace_days=3)
    assert on_the_day_grace_ends.status == DELINQUENT


def test_a_manual_block_with_blocking_disabled_still_blocks_and_makes_the_account_delinquent():
    result = standing(balance=1000 * RUB, manual_block=True, blocking_enabled=False)
    assert (result.status, result.blocked, result.reasons) == (DELINQUENT, True, ("blocked manually",))


def test_with_blocking_disabled_a_delinquent_account_is_not_blocked():
    result = standing(balance=-5 * RUB, blocking_enabled=False, currently_blocked=True)
    assert (result.status, result.blocked) == (DELINQUENT, False)


def test_a_payment_lifts_an_automatic_block():
    before = standing(balance=-5 * RUB)
    after = standing(balance=20 * RUB, currently_blocked=before.blocked)
    assert (before.blocked, after.blocked, after.status) == (True, False, GOOD_STANDING)
    assert standing_events(before, after) == ["restored_good_standing", "unblocked"]


def test_a_payment_does_not_lift_a_manual_block():
    before = standing(balance=-5 * RUB, manual_block=True)
    after = standing(balance=20 * RUB, manual_block=True, currently_blocked=True)
    assert (after.status, after.blocked) == (DELINQUENT, True)
    assert standing_events(before, after) == []


def test_a_grace_period_does_not_shelter_a_manual_block():
    result = standing(balance=0, manual_block=True, created_day=TODAY, grace_days=10)
    assert (result.status, result.blocked) == (DELINQUENT, True)


@pytest.mark.parametrize(
    "bad",
    [
        dict(balance=1.5),
        dict(balance=True),
        dict(credit_line=-1),
        dict(grace_days=-1),
        dict(today="2024-03-15"),
        dict(created_day=None),
        dict(manual_block=1),
    ],
)
def test_inputs_of_the_wrong_kind_are_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        standing(**bad)


# ----------------------------------------------------------------------------- events


def test_a_first_evaluation_in_good_standing_has_no_events():
    assert standing_events(None, standing(balance=10)) == []


def test_a_first_evaluation_that_finds_the_account_delinquent_and_blocked_reports_both():
    assert standing_events(None, standing(balance=-10)) == ["became_delinquent", "blocked"]


def test_nothing_changed_means_no_events():
    same = standing(balance=-10)
    assert standing_events(same, same) == []


def test_becoming_delinquent_without_blocking_is_one_event_and_the_events_are_named_strings():
    events = standing_events(
        standing(balance=10, blocking_enabled=False), standing(balance=-10, blocking_enabled=False)
    )
    assert events == [StandingChange.BECAME_DELINQUENT] == ["became_delinquent"]


def test_switching_blocking_on_blocks_an_account_that_was_already_delinquent():
    before = standing(balance=-10, blocking_enabled=False)
    assert standing_events(before, standing(balance=-10, blocking_enabled=True)) == ["blocked"]


# ----------------------------------------------------------------------------- properties

amounts = st.integers(min_value=-(10**15), max_value=10**15)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
inputs = st.fixed_dictionaries(
    {
        "balance": amounts,
        "credit_line": st.integers(min_value=0, max_value=10**15),
        "manual_block": st.booleans(),
        "blocking_enabled": st.booleans(),
        "created_day": days,
        "today": days,
        "grace_days": st.integers(min_value=0, max_value=60),
        "currently_blocked": st.booleans(),
    }
)


def in_grace(case: dict) -> bool:
    return case["today"] < case["created_day"] + timedelta(days=case["grace_days"])


@given(inputs)
def test_standing_is_good_exactly_when_funds_or_grace_cover_it_and_nobody_blocked_it_by_hand(case):
    covered = case["balance"] + case["credit_line"] >= 0
    expected = (covered or in_grace(case)) and not case["manual_block"]
    assert evaluate_standing(**case).in_good_standing == expected


@given(inputs)
def test_an_account_is_blocked_only_by_hand_or_by_enabled_blocking_of_a_delinquent_account(case):
    result = evaluate_standing(**case)
    if result.blocked:
        assert case["manual_block"] or (case["blocking_enabled"] and not result.in_good_standing)


@given(inputs)
def test_evaluating_again_with_the_block_it_decided_gives_the_same_result(case):
    first = evaluate_standing(**case)
    assert evaluate_standing(**{**case, "currently_blocked": first.blocked}) == first
    assert standing_events(first, first) == []


@given(amounts, st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=10**15))
def test_the_funds_check_passes_exactly_when_balance_and_credit_cover_the_charges(balance, credit, mrc):
    assert funds_check(balance=balance, credit_line=credit, mrc_total=mrc) == (mrc <= balance + credit)


# ----------------------------------------------------------------------------- trials and funds


def trial(**overrides) -> TrialDecision:
    inputs = dict(
        trial_expires_day=date(2024, 3, 20),
        today=TODAY,
        balance=0,
        monthly_cost=500 * RUB,
        already_expired_notified=False,
    )
    return decide_trial(**{**inputs, **overrides})


def test_an_account_without_a_trial_has_nothing_to_decide():
    assert trial(trial_expires_day=None, balance=10_000 * RUB) == TrialDecision("none")


def test_a_trial_whose_balance_covers_a_month_converts_with_todays_day_as_billing_day():
    assert trial(balance=500 * RUB) == TrialDecision("convert", billing_day=15)
    assert trial(balance=500 * RUB, today=date(2024, 3, 20), trial_expires_day=date(2024, 3, 20)) == TrialDecision(
        "convert", 20
    )


def test_a_trial_converting_on_the_31st_keeps_31_as_its_billing_day():
    assert trial(balance=500 * RUB, today=date(2024, 1, 31), trial_expires_day=date(2024, 2, 10)).billing_day == 31


def test_a_running_trial_short_of_a_month_stays_a_trial():
    assert trial(balance=499 * RUB) == TrialDecision("none")


def test_a_trial_with_nothing_to_pay_and_nothing_paid_does_not_convert_but_a_payment_converts_it():
    assert trial(balance=0, monthly_cost=0) == TrialDecision("none")
    assert trial(balance=1, monthly_cost=0) == TrialDecision("convert", 15)


def test_a_trial_past_its_last_day_expires_once():
    assert trial(today=date(2024, 3, 21)) == TrialDecision("expire")
    assert trial(today=date(2024, 3, 21), already_expired_notified=True) == TrialDecision("none")


def test_a_payment_after_the_trial_expired_does_not_convert_it():
    assert trial(today=date(2024, 3, 25), balance=1000 * RUB, already_expired_notified=True) == TrialDecision("none")


def test_the_funds_check_allows_charges_up_to_balance_plus_credit_line():
    assert funds_check(balance=100 * RUB, credit_line=50 * RUB, mrc_total=150 * RUB)
    assert not funds_check(balance=100 * RUB, credit_line=50 * RUB, mrc_total=150 * RUB + 1)
    assert funds_check(balance=0, credit_line=0, mrc_total=0)


def test_the_amount_to_restore_is_what_the_pending_period_needs_beyond_balance_and_credit():
    from bookkeeper.domain.standing import amount_to_restore

    # Gamma Shop: 1,000 RUB of phones for the period, 700 RUB of credit, nothing paid: 300 RUB.
    assert amount_to_restore(balance=0, credit_line=700 * RUB, unpaid_charges=1_000 * RUB) == 300 * RUB
    # No period waiting: what the balance is below the credit line.
    assert amount_to_restore(balance=-850 * RUB, credit_line=700 * RUB) == 150 * RUB
    assert amount_to_restore(balance=-700 * RUB, credit_line=700 * RUB) == 0


@given(st.integers(-(10**12), 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_paying_the_amount_to_restore_covers_the_account_and_a_unit_less_does_not(balance, credit_line, unpaid):
    """Invariant: the amount is never negative; paid, the pending charges (or a zero balance below
    the credit line) are covered; one unit less, when anything was short, they are not."""
    from bookkeeper.domain.standing import amount_to_restore

    amount = amount_to_restore(balance=balance, credit_line=credit_line, unpaid_charges=unpaid)
    assert amount >= 0
    assert funds_check(balance=balance + amount, credit_line=credit_line, mrc_total=unpaid)
    if amount:
        assert not funds_check(balance=balance + amount - 1, credit_line=credit_line, mrc_total=unpaid)


# ----------------------------------------------------------------------------- after a call's debit


def test_a_debit_that_leaves_a_good_account_covered_changes_nothing():
    good = standing(balance=500 * RUB)
    assert unchanged_by_debits(good, 0, balance=10 * RUB, credit_line=0)
    assert unchanged_by_debits(good, 0, balance=0, credit_line=0)  # paid exactly what it owes: fine
    assert unchanged_by_debits(good, 0, balance=-50 * RUB, credit_line=50 * RUB)


def test_a_debit_below_the_line_or_an_account_not_in_good_standing_needs_the_whole_evaluation():
    good = standing(balance=500 * RUB)
    assert not unchanged_by_debits(good, 0, balance=-1, credit_line=0)
    assert not unchanged_by_debits(None, 0, balance=500 * RUB, credit_line=0)  # never evaluated
    assert not unchanged_by_debits(standing(balance=-1), 0, balance=500 * RUB, credit_line=0)  # was delinquent
    assert not unchanged_by_debits(good, 100, balance=500 * RUB, credit_line=0)  # something still to restore
    blocked_by_hand = standing(balance=500 * RUB, manual_block=True)
    assert not unchanged_by_debits(blocked_by_hand, 0, balance=500 * RUB, credit_line=0)


@given(inputs, st.integers(min_value=0, max_value=10**15))
def test_when_debits_change_nothing_evaluating_the_standing_whole_gives_the_standing_kept(case, debited):
    """The shortcut a call batch takes (no whole pass) is only taken where the whole pass would
    decide exactly the standing the account already has."""
    kept = evaluate_standing(**case)
    after = {**case, "balance": case["balance"] - debited, "currently_blocked": kept.blocked}
    if unchanged_by_debits(kept, 0, after["balance"], case["credit_line"]):
        assert evaluate_standing(**after) == kept


def test_an_account_is_billed_from_its_creation_or_the_day_after_its_trial_expired():
    created = date(2026, 11, 20)
    assert first_billed_day(created_day=created, trial_expires_day=None) == created
    assert first_billed_day(created_day=created, trial_expires_day=date(2026, 11, 25)) == date(2026, 11, 26)
    # An expiry stamped before the creation (a copied document) bills from the creation.
    assert first_billed_day(created_day=created, trial_expires_day=date(2026, 11, 1)) == created
