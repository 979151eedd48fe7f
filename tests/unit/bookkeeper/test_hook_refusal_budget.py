"""How many unvouched hook deliveries a sender may have recorded: so many a minute per address,
counted afresh each minute, and no address beyond the tracked number."""

from __future__ import annotations

from bookkeeper.services.payments.hook_attempts import RefusalBudget


def test_each_address_may_have_so_many_recorded_a_minute_and_again_the_next_minute():
    budget = RefusalBudget(per_source_per_minute=3)
    assert [budget.spend("203.0.113.7", 100) for _ in range(5)] == [True, True, True, False, False]
    assert budget.spend("198.51.100.1", 100)  # another sender has its own budget
    assert budget.spend("203.0.113.7", 101)  # a new minute, a new budget


def test_past_the_tracked_number_of_addresses_a_new_one_is_not_recorded_this_minute():
    budget = RefusalBudget(per_source_per_minute=5, max_sources=2)
    assert budget.spend("a", 7) and budget.spend("b", 7)
    assert not budget.spend("c", 7)
    assert budget.spend("a", 7)  # the ones already counted keep their budget
    assert budget.spend("c", 8)
