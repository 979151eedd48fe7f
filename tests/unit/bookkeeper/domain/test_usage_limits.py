"""An account's on-demand allowance, as worked examples: rolling windows of an hour and a day,
and the answer past a limit naming it and when one is free again."""

from __future__ import annotations

from bookkeeper.domain.usage_limits import UsageLimit, take

LIMIT = UsageLimit("proformas", per_hour=3, per_day=5)


def test_the_fourth_in_an_hour_waits_for_the_first_to_leave_the_hour():
    used = []
    for moment in (0, 600, 1_200):
        used, over = take(used, moment, LIMIT)
        assert over is None
    kept, over = take(used, 1_800, LIMIT)
    assert kept == used and (over.name, over.most, over.retry_after_s) == ("proformas_per_hour", 3, 1_800)
    assert take(used, 3_600, LIMIT)[1] is None  # the first left the hour at 3,600 s


def test_a_day_fills_up_across_hours_and_forgets_after_24_hours():
    used = []
    for moment in (0, 1, 4_000, 4_001, 8_000):
        used, over = take(used, moment, LIMIT)
        assert over is None
    _, over = take(used, 12_000, LIMIT)
    assert (over.name, over.retry_after_s) == ("proformas_per_day", 86_400 - 12_000)
    used, over = take(used, 86_400, LIMIT)
    assert over is None and used == [1, 4_000, 4_001, 8_000, 86_400]  # what left the day is forgotten


def test_zero_means_no_limit():
    used = []
    for moment in range(50):
        used, over = take(used, moment, UsageLimit("documents", 0, 0))
        assert over is None
