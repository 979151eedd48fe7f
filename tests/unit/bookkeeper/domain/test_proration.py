from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.proration import daily_share, remaining_share

monthly_costs = st.integers(0, 10**13)
period_days = st.integers(28, 31)


def test_500_roubles_over_31_days_is_161290_or_161291_units_a_day():
    shares = [daily_share(5_000_000, 31, index) for index in range(31)]
    assert shares[:10] == [161_291] * 10 and shares[10:] == [161_290] * 21
    assert sum(shares) == 5_000_000


def test_500_roubles_over_28_days_adds_up_too():
    assert sum(daily_share(5_000_000, 28, index) for index in range(28)) == 5_000_000


def test_the_days_left_of_a_28_day_period_from_its_16th_day():
    # 2,000 RUB a month, 13 days left of 28: 20,000,000 = 28 × 714,285 + 20
    assert remaining_share(20_000_000, 28, 15) == 13 * 714_285 + 5


@given(monthly_costs, period_days)
def test_daily_shares_are_the_largest_remainder_split(monthly, days):
    """Equal weights: every share is the floor or one unit more, the larger ones first."""
    shares = [daily_share(monthly, days, i) for i in range(days)]
    assert sum(shares) == monthly and shares == sorted(shares, reverse=True)
    assert set(shares) <= {monthly // days, monthly // days + 1}


@given(monthly_costs, period_days, st.data())
def test_prorated_parts_of_any_split_of_a_period_add_up_to_the_whole(monthly, days, data):
    cuts = sorted(set(data.draw(st.lists(st.integers(1, days - 1), max_size=5))))
    bounds = [0, *cuts, days]
    parts = [remaining_share(monthly, days, a) - remaining_share(monthly, days, b) for a, b in pairwise(bounds)]
    assert sum(parts) == monthly and all(part >= 0 for part in parts)


@given(monthly_costs, period_days, st.integers(0, 30))
def test_the_days_left_cost_the_sum_of_their_daily_shares(monthly, days, index):
    index = min(index, days)
    assert remaining_share(monthly, days, index) == sum(daily_share(monthly, days, i) for i in range(index, days))


@given(st.integers(0, 10**12), st.integers(0, 10**12), period_days, st.integers(0, 30))
def test_a_higher_monthly_cost_never_leaves_less_to_charge(low, high, days, index):
    low, high = sorted((low, high))
    index = min(index, days)
    assert remaining_share(low, days, index) <= remaining_share(high, days, index)


@pytest.mark.parametrize(
    "call",
    [
        lambda: daily_share(-1, 31, 0),
        lambda: daily_share(100, 32, 0),
        lambda: daily_share(100, 31, 31),
        lambda: remaining_share(100, 0, 0),
        lambda: remaining_share(1.5, 31, 0),
        lambda: remaining_share(100, 31, 32),
    ],
)
def test_impossible_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()
