"""A month's revenue added up from each account's sums per ledger source and category: billed
and collected per source, billed per category, and the categories adding up to what was billed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.services.operations.revenue import NOT_REVENUE, CurrencyRevenue, add_up_month


def test_a_month_of_subscriptions_a_credit_calls_a_payment_and_a_rollover():
    figures = CurrencyRevenue("RUB")
    add_up_month(
        figures,
        {
            ("services", "devices"): -15_000_000 + 1_000_000,  # three phones, one credited back for a few days
            ("services", "users"): -3_000_000,
            ("per-minute-voip", "calls"): -2_500_000,
            ("payments", "payments"): 7_000_000,
            ("rollovers", "rollovers"): 50_000_000,  # last month's balance carried over: no money moved
        },
    )
    assert figures.billed == {"services": 17_000_000, "per-minute-voip": 2_500_000}
    assert figures.collected == {"payments": 7_000_000}
    assert figures.by_category == {"devices": 14_000_000, "users": 3_000_000, "calls": 2_500_000}


def test_a_category_credited_more_than_it_was_charged_shows_below_zero_and_still_adds_up():
    figures = CurrencyRevenue("EUR")
    add_up_month(figures, {("services", "devices"): 400_000, ("services", "users"): -1_000_000})
    assert figures.billed == {"services": 600_000}
    assert figures.by_category == {"devices": -400_000, "users": 1_000_000}


SOURCES = st.sampled_from(["services", "per-minute-voip", "payments", "manual", "rollovers"])
CATEGORIES = st.sampled_from(["devices", "users", "phone_numbers", "limits", "calls", "payments"])


@given(st.dictionaries(st.tuples(SOURCES, CATEGORIES), st.integers(-(10**9), 10**9), max_size=12))
def test_categories_add_up_to_what_was_billed_and_nothing_is_lost(sums):
    figures = CurrencyRevenue("RUB")
    add_up_month(figures, sums)
    assert sum(figures.by_category.values()) == figures.billed_total
    moved = sum(amount for (source, _), amount in sums.items() if source not in NOT_REVENUE)
    assert figures.collected_total - figures.billed_total == moved
    assert all(type(units) is int and units > 0 for units in [*figures.billed.values(), *figures.collected.values()])
    assert not set(figures.billed) & set(figures.collected)
