"""Shard ownership, batch bookkeeping and restart budgets: pure, so checked exhaustively."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.routing import PendingBatches, shard_of, split_by_shard
from actors.supervision import RestartBudget

ACCOUNT_IDS = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@given(st.lists(ACCOUNT_IDS, max_size=60), st.integers(min_value=1, max_value=16))
def test_every_account_lands_once_in_the_shard_that_owns_it(account_ids, shard_count):
    parts = split_by_shard(account_ids, shard_count)
    placed = [account for ids in parts.values() for account in ids]
    assert sorted(placed) == sorted(set(account_ids))
    for shard, ids in parts.items():
        assert 0 <= shard < shard_count and all(shard_of(account, shard_count) == shard for account in ids)


def test_ownership_is_stable_across_processes():
    # blake2b, not hash(): the same account must map to the same shard after a restart
    assert shard_of("6b71cb2f7b3cb0ebd4e9df3e5c1d1f1c", 4) == shard_of("6b71cb2f7b3cb0ebd4e9df3e5c1d1f1c", 4)
    assert {shard_of(f"{n:032x}", 4) for n in range(200)} == {0, 1, 2, 3}


def test_a_batch_is_answered_once_every_shard_reported_and_late_reports_are_ignored():
    pending = PendingBatches()
    pending.open("b1", "bridge", [0, 2])
    assert pending.report("b1", 0, ["a"], [], []) is None
    assert pending.report("b1", 0, ["a"], [], []) is None  # a duplicate report changes nothing
    reply_to, outcome = pending.report("b1", 2, ["c"], [("d", "bad")], ["e"])
    assert reply_to == "bridge" and outcome.done == ["a", "c"] and outcome.failed == [("d", "bad")]
    assert outcome.not_done == ["e"] and "b1" not in pending
    assert pending.report("b1", 2, ["c"], [], []) is None  # after the answer: ignored


def test_the_budget_allows_intensity_restarts_per_period_then_refuses():
    budget = RestartBudget(intensity=2, period_s=10)
    assert budget.allow(0) and budget.allow(1)
    assert not budget.allow(2)
    assert budget.allow(10.5)  # the first restart left the window


@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), max_size=40), st.integers(0, 5))
def test_no_window_ever_holds_more_restarts_than_the_intensity(times, intensity):
    budget, allowed = RestartBudget(intensity=intensity, period_s=10), []
    for moment in sorted(times):
        if budget.allow(moment):
            allowed.append(moment)
    for start in allowed:
        assert len([t for t in allowed if start <= t < start + 10]) <= intensity
