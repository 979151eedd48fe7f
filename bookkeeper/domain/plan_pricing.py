"""What a plan charges: the quantity stepped and held between minimum and maximum, the price
from flat_rates, else flat_rate, else the tiered rates, else rate, less the discounts, never
below zero (bookkeeper.domain.plans says what a plan is)."""

from __future__ import annotations

from collections.abc import Mapping

from bookkeeper.domain.plans import (
    ALL_ITEMS,
    RATE_DECK_CATEGORIES,
    ItemPrice,
    PlanError,
    PlanItem,
    ServicePlan,
    first_tier,
    whole_count,
)


def billable_quantity(item: PlanItem, quantity: int) -> int:
    if quantity <= 0:
        return 0  # a minimum bills for a service the account has, not for one it never took
    stepped = -(-quantity // item.step) * item.step
    held = max(stepped, item.minimum)
    return held if item.maximum is None else min(held, item.maximum)


def price_item(item: PlanItem, quantity: int) -> ItemPrice:
    quantity = whole_count(quantity, f"quantities.{item.category}.{item.item}")
    billable = billable_quantity(item, quantity)
    rate: int | None = None
    flat = first_tier(item.flat_rates, billable, item.flat_rate)
    if flat is None:
        rate = first_tier(item.rates, billable, item.rate)
    if flat is None and rate is None:
        # Past every tier, with no flat_rate or rate to fall back on: the last tier carries on.
        if item.flat_rates:
            flat = item.flat_rates[-1].amount
        elif item.rates:
            rate = item.rates[-1].amount
        else:
            raise PlanError(f"{item.path}.rate", "the item has no price for this quantity")
    if billable == 0:
        gross, rate = 0, None
    elif flat is not None:
        gross = flat
    else:
        assert rate is not None  # a flat price or a rate, or PlanError above
        gross = rate * billable
    discount = 0
    if billable and item.single_discount:
        discount += item.single_discount.per_quantity(billable)
    # Kazoo gives a cumulative discount only up to its maximum; without one it gives none.
    if billable and item.cumulative_discount and item.cumulative_discount.maximum:
        per_item = item.cumulative_discount.per_quantity(billable)
        discount += per_item * min(billable, item.cumulative_discount.maximum)
    monthly = max(gross - discount, 0)
    return ItemPrice(
        item.category,
        item.item,
        item.name,
        quantity,
        billable,
        rate,
        gross,
        gross - monthly,
        monthly,
        item.activation_charge,
        item.names,
    )


def price_services(plan: ServicePlan, quantities: Mapping[str, Mapping[str, int]]) -> list[ItemPrice]:
    """Every priced item with something billable, in (category, item) order. Quantities of items
    the plan does not price are not billed; `as` items add to the item they count as; `_all`
    prices the rest of its category."""
    counted: dict[tuple[str, str], int] = {}
    for category, items in quantities.items():
        for item, quantity in items.items():
            counted[(category, item)] = whole_count(quantity, f"quantities.{category}.{item}")
    for category, item in list(counted):  # the count is popped: an earlier `as` may have added to it
        entry = plan.item(category, item)
        if entry and entry.counts_as:
            target = (category, entry.counts_as)
            counted[target] = counted.get(target, 0) + counted.pop((category, item))
    prices = []
    for (category, item), entry in sorted(plan.items.items()):
        if entry.counts_as or (category in RATE_DECK_CATEGORIES and not entry.is_priced()):
            continue
        if item == ALL_ITEMS:
            quantity = sum(
                q
                for (c, i), q in counted.items()
                if c == category and plan.item(c, i) is None and i not in entry.exceptions
            )
        else:
            quantity = counted.get((category, item), 0)
        price = price_item(entry, quantity)
        if price.billable_quantity:
            prices.append(price)
    return prices
