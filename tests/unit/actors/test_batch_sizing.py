"""A bridge's batch size follows how fast the shards answered (actors/bridges/batch_sizing.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.bridges.batch_sizing import BatchSizing


def test_a_backlog_on_a_fast_store_grows_the_batch_twofold_up_to_the_largest():
    sizing = BatchSizing(smallest=200, largest=2000, answer_within_s=2.0)
    sizes = []
    for _ in range(6):
        sizing.answered(sizing.size, 0.3)  # the embedded store: 200 messages answered in 0.3 s
        sizes.append(sizing.size)
    assert sizes == [400, 800, 1600, 2000, 2000, 2000]


def test_a_slow_store_keeps_batches_to_what_is_answered_in_time():
    sizing = BatchSizing(smallest=100, largest=2000, answer_within_s=2.0)
    for _ in range(3):
        sizing.answered(sizing.size, 1.0)  # answered in half the time aimed at: doubles
    assert sizing.size == 800
    sizing.answered(800, 16.0)  # CouchDB under load: 50 messages a second
    assert sizing.size == 100  # what fits in 2 s, no less than the smallest


def test_the_size_falls_at_once_to_what_fits():
    sizing = BatchSizing(smallest=50, largest=2000, answer_within_s=2.0)
    sizing.size = 2000
    sizing.answered(2000, 8.0)
    assert sizing.size == 500


def test_a_small_batch_answered_in_time_behind_big_ones_leaves_the_size_alone():
    sizing = BatchSizing(smallest=200, largest=8000, answer_within_s=20.0)
    sizing.size = 8000
    sizing.answered(86, 3.4)  # cut by the wait window, queued behind two batches of thousands
    assert sizing.size == 8000
    sizing.size = 1000
    sizing.answered(900, 3.4)
    assert sizing.size == 1800  # twice what was shown to answer in time


def test_a_small_batch_answered_late_shrinks_the_size_by_its_lateness_not_to_its_own_size():
    sizing = BatchSizing(smallest=200, largest=8000, answer_within_s=20.0)
    sizing.size = 8000
    sizing.answered(86, 25.0)  # queued behind the big ones in flight: they are what was slow
    assert sizing.size == 6400


def test_batches_in_flight_late_alike_shrink_the_size_once_not_once_each():
    sizing = BatchSizing(smallest=200, largest=2000, answer_within_s=20.0)
    sizing.size = 2000
    for _ in range(6):  # six batches in flight, each answered after 30 s
        sizing.answered(2000, 30.0)
    assert sizing.size == 1333
    sizing.answered(1333, 60.0)  # later still: from where the lateness began
    assert sizing.size == 666
    sizing.answered(666, 5.0)  # in time again: it grows from here
    assert sizing.size == 1332


def test_a_time_that_is_no_time_teaches_nothing():
    sizing = BatchSizing(smallest=10, largest=100)
    for seconds in (float("nan"), -1.0):
        sizing.answered(10, seconds)
    assert sizing.size == 10


def test_unreachable_shards_start_it_again_from_the_smallest():
    sizing = BatchSizing(smallest=200, largest=2000)
    sizing.size = 1600
    sizing.reset()
    assert sizing.size == 200


def test_a_batch_of_nothing_or_answered_at_once_changes_it_within_bounds():
    sizing = BatchSizing(smallest=10, largest=100)
    sizing.answered(0, 5.0)
    assert sizing.size == 10
    sizing.answered(10, 0.0)
    assert sizing.size == 20


def test_a_fixed_size_never_moves():
    sizing = BatchSizing.fixed(5)
    sizing.answered(5, 0.001)
    sizing.answered(5, 100.0)
    assert sizing.size == 5


@pytest.mark.parametrize(("smallest", "largest", "within"), [(0, 10, 1.0), (20, 10, 1.0), (10, 20, 0.0), (-1, 5, 1.0)])
def test_bounds_that_cannot_hold_are_refused(smallest, largest, within):
    with pytest.raises(ValueError, match="batch sizes|answer_within_s"):
        BatchSizing(smallest=smallest, largest=largest, answer_within_s=within)


@given(
    smallest=st.integers(1, 500),
    extra=st.integers(0, 5000),
    within=st.floats(0.01, 60),
    answers=st.lists(
        st.one_of(st.none(), st.tuples(st.integers(0, 10_000), st.floats(0, 600, allow_nan=False))), max_size=30
    ),
)
def test_the_size_stays_in_bounds_and_at_most_doubles(smallest, extra, within, answers):
    sizing = BatchSizing(smallest=smallest, largest=smallest + extra, answer_within_s=within)
    for answer in answers:
        before = sizing.size
        if answer is None:
            sizing.reset()
            assert sizing.size == smallest
            continue
        messages, seconds = answer
        late_from = sizing._late_from
        sizing.answered(messages, seconds)
        assert smallest <= sizing.size <= smallest + extra
        assert sizing.size <= max(2 * before, smallest)
        if messages and seconds > within:
            assert sizing.size <= max(before, smallest)  # slower than aimed at: never grows
            if late_from is None:
                assert sizing.size <= max(smallest, int(before * within / seconds))  # as much as it was late
        elif messages:
            assert sizing.size >= min(before, smallest + extra)  # in time: never falls
