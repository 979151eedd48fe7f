"""The audit's comparison of expected charges with ledger entries: exact by entry id, except that
a (period or day, item) charged in other steps for the same money is not a difference."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.audit import Difference, compare
from bookkeeper.domain.charges import Charge
from bookkeeper.domain.periods import Period

DAY = "202612-kazbill-daily-20261202-devices-sip_device"


DECEMBER = Period(1, date(2026, 12, 1), date(2026, 12, 31))


def _charge(entry_id: str, amount: int) -> Charge:
    return Charge(
        entry_id=entry_id,
        ledger_type="debit",
        amount=amount,
        reason="daily_fee",
        description="",
        category="devices",
        item="sip_device",
        quantity=1,
        rate=60_0000,
        monthly=60_0000,
        days_charged=1,
        days_in_period=31,
        period=DECEMBER,
        day=date(2026, 12, 2),
    )


def _entry(entry_id: str, amount: int, ledger_type: str = "debit") -> dict:
    return {
        "_id": entry_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "metadata": {"kazbill": {"category": "devices", "item": "sip_device"}},
    }


def test_a_day_charged_at_once_at_its_later_level_is_not_a_difference():
    # Worked example: 60.00 EUR a month per phone, December (31 days). The history's walk: the
    # day opens at 1 phone (19.36 → 1936 after the remainder spread) and a second is added
    # (1935). The service was down over midnight, saw the second phone first and charged the day
    # at 2 phones at once: 3871, the same money under one entry id.
    expected = [_charge(f"{DAY}-q1", 1936), _charge(f"{DAY}-q2", 1935)]
    assert compare(expected, [_entry(f"{DAY}-q2", 3871)]) == []


def test_a_lost_or_doubled_step_is_still_named():
    expected = [_charge(f"{DAY}-q1", 1936), _charge(f"{DAY}-q2", 1935)]
    assert compare(expected, [_entry(f"{DAY}-q2", 1935)]) == [Difference(f"{DAY}-q1", "missing", -1936, None)]
    doubled = compare(expected, [_entry(f"{DAY}-q1", 1936), _entry(f"{DAY}-q2", 1935), _entry(f"{DAY}-q3", 1935)])
    assert doubled == [Difference(f"{DAY}-q3", "unexpected", None, -1935)]


def test_another_day_or_item_does_not_make_up_for_a_difference():
    other_day = "202612-kazbill-daily-20261203-devices-sip_device"
    expected = [_charge(f"{DAY}-q1", 1936)]
    assert compare(expected, [_entry(f"{other_day}-q1", 1936)]) == [
        Difference(f"{DAY}-q1", "missing", -1936, None),
        Difference(f"{other_day}-q1", "unexpected", None, -1936),
    ]


@given(
    st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=-(10**6), max_value=10**6),
)
def test_regrouping_forgives_only_the_same_sum(steps, held_level, error):
    """Invariant: the expected steps of one (day, item) against one held entry at any level audit
    clean exactly when the amounts add up."""
    expected = [_charge(f"{DAY}-q{n + 1}", amount) for n, amount in enumerate(steps)]
    held_amount = sum(steps) + error
    held = [_entry(f"{DAY}-q{held_level}", held_amount)] if held_amount > 0 else []
    differences = compare(expected, held)
    assert (differences == []) == (error == 0)
    # What is reported accounts for the whole error: the held sum minus the expected one.
    assert sum(d.actual or 0 for d in differences) - sum(d.expected or 0 for d in differences) == -(
        max(held_amount, 0) - sum(steps)
    )
