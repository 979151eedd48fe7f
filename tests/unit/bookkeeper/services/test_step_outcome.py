"""How the billing pass's steps hand back what they decided (account_pass/outcome.py)."""

from datetime import date

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.periods import period_containing
from bookkeeper.services.billing.account_pass.outcome import StepOutcome
from bookkeeper.services.billing.events import BillingEvent


def charge(amount: int) -> Charge:
    return Charge(
        entry_id=f"202611-test-{amount}",
        ledger_type="debit",
        amount=amount,
        reason="recurring",
        description="User",
        category="users",
        item="user",
        quantity=1,
        rate=amount,
        monthly=amount,
        days_charged=30,
        days_in_period=30,
        period=period_containing(1, date(2026, 11, 3)),
        day=date(2026, 11, 3),
    )


def test_a_step_followed_by_another_keeps_charges_and_events_in_order():
    first = StepOutcome([charge(100)], [BillingEvent("services_cancelled", "a", {})])
    second = StepOutcome([charge(200)], [BillingEvent("period_opened", "a", {})])
    both = first.then(second)
    assert [c.amount for c in both.charges] == [100, 200]
    assert [e.name for e in both.events] == ["services_cancelled", "period_opened"]


def test_the_later_verdict_on_funds_wins_and_no_verdict_keeps_the_earlier():
    pending = StepOutcome(unpaid_charges=35_000)
    assert StepOutcome().then(pending).unpaid_charges == 35_000
    assert pending.then(StepOutcome()).unpaid_charges == 35_000
    assert pending.then(StepOutcome(unpaid_charges=0)).unpaid_charges == 0  # pending, with nothing to debit
    assert StepOutcome().then(StepOutcome()).unpaid_charges is None  # nothing left pending
