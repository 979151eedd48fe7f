"""Service plans in Kazoo's format, and what an item costs a month at a quantity.

A plan prices items by category: `{"plan": {"devices": {"sip_device": {"rate": 500}}}}`.
The maths follows Kazoo's services: the quantity is stepped, then held between minimum and
maximum; the price comes from flat_rates, else flat_rate, else the tiered rates, else rate;
then discounts (single, cumulative) come off, and the cost never goes below zero. Amounts in a
plan are currency units (JSON numbers, parsed as Decimal at the edge); here they become units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.money import MoneyError, from_json_number, units_from_major

ALL_ITEMS = "_all"
# The categories Kazoo's services count (and Kazbill can therefore quantify). A plan naming
# another is a typo ("devcies") that would silently bill nothing, so it is refused.
KNOWN_CATEGORIES = frozenset(
    {
        "users",
        "devices",
        "limits",
        "phone_numbers",
        "number_services",
        "number_carriers",
        "phone_numbers_non_billable",
        "ips",
        "branding",
        "ui_apps",
        "billing",
        "ratedeck",
        "ratedeck_name",
        "ledgers",
        "voicemails",
        "faxes",
        "conferences",
        "periodic_fees",
    }
)


RATE_DECK_CATEGORIES = ("ratedeck_name", "ratedeck")


class PlanError(ValueError):
    """A plan or a quantity that cannot be priced; `field` is the path inside the plan."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Tier:
    """`"rates": {"10": 450}`: the amount applies while the quantity is at most `up_to`."""

    up_to: int
    amount: int  # units


@dataclass(frozen=True)
class Discount:
    amount: int | None = None  # units, `rate` in the plan
    tiers: tuple[Tier, ...] = ()
    maximum: int | None = None  # cumulative only: how many items get the discount

    def per_quantity(self, quantity: int) -> int:
        return _first_tier(self.tiers, quantity, self.amount) or 0


@dataclass(frozen=True)
class PlanItem:
    category: str
    item: str
    name: str = ""
    rate: int | None = None
    rates: tuple[Tier, ...] = ()
    flat_rate: int | None = None
    flat_rates: tuple[Tier, ...] = ()
    minimum: int = 0
    maximum: int | None = None
    step: int = 1
    single_discount: Discount | None = None
    cumulative_discount: Discount | None = None
    activation_charge: int = 0
    counts_as: str | None = None  # Kazoo's `as`: count this item as another item of the category
    cascade: bool = False
    exceptions: tuple[str, ...] = ()  # for `_all`: items it does not cover
    prorate_additions: bool = True
    prorate_removals: bool = False

    @property
    def path(self) -> str:
        return f"plan.{self.category}.{self.item}"

    def is_priced(self) -> bool:
        return bool(self.flat_rates) or self.flat_rate is not None or bool(self.rates) or self.rate is not None


@dataclass(frozen=True)
class ItemPrice:
    """What one item costs a month at one quantity."""

    category: str
    item: str
    name: str
    quantity: int  # counted
    billable_quantity: int  # after step, minimum and maximum
    rate: int | None  # per item, units; None when a flat amount applies
    gross: int  # before discounts
    discount: int
    monthly: int  # gross - discount, never below zero
    activation_charge: int  # per newly billable item


@dataclass(frozen=True)
class ServicePlan:
    plan_id: str
    name: str
    items: Mapping[tuple[str, str], PlanItem]

    def item(self, category: str, item: str) -> PlanItem | None:
        return self.items.get((category, item))

    def categories(self) -> set[str]:
        return {category for category, _ in self.items}


# ----------------------------------------------------------------------------- parsing


def _first_tier(tiers: Sequence[Tier], quantity: int, otherwise: int | None) -> int | None:
    """The amount of the first tier the quantity fits under, else `otherwise`."""
    for tier in tiers:
        if quantity <= tier.up_to:
            return tier.amount
    return otherwise


def _amount(value: Any, field: str) -> int:
    try:
        amount = units_from_major(from_json_number(value, field), field)
    except MoneyError as error:
        raise PlanError(field, error.reason) from None
    if amount < 0:
        raise PlanError(field, "must not be negative")
    return amount


def _count(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PlanError(field, f"must be a whole number of at least {minimum}")
    return value


def _tiers(value: Any, field: str) -> tuple[Tier, ...]:
    if not isinstance(value, Mapping):
        raise PlanError(field, "must be an object of quantity → amount")
    tiers = []
    for key, amount in value.items():
        if not str(key).isdigit():
            raise PlanError(f"{field}.{key}", "tier keys must be whole quantities")
        tiers.append(Tier(int(key), _amount(amount, f"{field}.{key}")))
    return tuple(sorted(tiers, key=lambda tier: tier.up_to))


def _discount(value: Any, field: str, cumulative: bool) -> Discount | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PlanError(field, "must be an object")
    return Discount(
        amount=None if value.get("rate") is None else _amount(value["rate"], f"{field}.rate"),
        tiers=_tiers(value.get("rates", {}), f"{field}.rates"),
        maximum=None
        if not cumulative or value.get("maximum") is None
        else _count(value["maximum"], f"{field}.maximum"),
    )


def parse_plan_item(category: str, item: str, body: Any) -> PlanItem:
    path = f"plan.{category}.{item}"
    if not isinstance(body, Mapping):
        raise PlanError(path, "must be an object")
    discounts = body.get("discounts") or {}
    if not isinstance(discounts, Mapping):
        raise PlanError(f"{path}.discounts", "must be an object")
    prorate = body.get("prorate") or {}
    counts_as = body.get("as")
    if counts_as is not None and (not isinstance(counts_as, str) or not counts_as or counts_as == item):
        raise PlanError(f"{path}.as", "must name another item of the category")
    exceptions = body.get("exceptions", [])
    if not isinstance(exceptions, list) or not all(isinstance(name, str) for name in exceptions):
        raise PlanError(f"{path}.exceptions", "must be a list of item names")
    parsed = PlanItem(
        category=category,
        item=item,
        name=str(body.get("name") or item),
        rate=None if body.get("rate") is None else _amount(body["rate"], f"{path}.rate"),
        rates=_tiers(body.get("rates", {}), f"{path}.rates"),
        flat_rate=None if body.get("flat_rate") is None else _amount(body["flat_rate"], f"{path}.flat_rate"),
        flat_rates=_tiers(body.get("flat_rates", {}), f"{path}.flat_rates"),
        minimum=_count(body.get("minimum", 0), f"{path}.minimum"),
        maximum=None if body.get("maximum") is None else _count(body["maximum"], f"{path}.maximum"),
        step=_count(body.get("step", 1), f"{path}.step", minimum=1),
        single_discount=_discount(discounts.get("single"), f"{path}.discounts.single", cumulative=False),
        cumulative_discount=_discount(discounts.get("cumulative"), f"{path}.discounts.cumulative", cumulative=True),
        activation_charge=_amount(body.get("activation_charge", 0), f"{path}.activation_charge"),
        counts_as=counts_as,
        cascade=bool(body.get("cascade", False)),
        exceptions=tuple(exceptions),
        prorate_additions=bool(prorate.get("additions", True)) if isinstance(prorate, Mapping) else True,
        prorate_removals=bool(prorate.get("removals", False)) if isinstance(prorate, Mapping) else False,
    )
    if parsed.maximum is not None and parsed.maximum < parsed.minimum:
        raise PlanError(f"{path}.maximum", "must not be below the minimum")
    if counts_as is None and not parsed.is_priced() and category not in RATE_DECK_CATEGORIES:
        # (a rate deck named by a plan is a choice, not a priced item: it may carry no rate)
        raise PlanError(f"{path}.rate", "the item has no rate, rates, flat_rate or flat_rates")
    return parsed


def parse_service_plan(doc: Mapping[str, Any]) -> ServicePlan:
    """A Kazoo `service_plan` document: `{"_id", "name", "plan": {category: {item: {...}}}}`."""
    plan = doc.get("plan")
    if not isinstance(plan, Mapping):
        raise PlanError("plan", "must be an object of categories")
    items: dict[tuple[str, str], PlanItem] = {}
    for category, entries in plan.items():
        if category not in KNOWN_CATEGORIES:
            raise PlanError(
                f"plan.{category}", f"unknown category; expected one of {', '.join(sorted(KNOWN_CATEGORIES))}"
            )
        if not isinstance(entries, Mapping):
            raise PlanError(f"plan.{category}", "must be an object of items")
        for item, body in entries.items():
            items[(category, item)] = parse_plan_item(category, item, body)
    for (category, item), parsed in items.items():
        if parsed.counts_as and (category, parsed.counts_as) not in items:
            raise PlanError(f"{parsed.path}.as", f"{parsed.counts_as!r} is not an item of {category}")
    return ServicePlan(str(doc.get("_id", "")), str(doc.get("name", "")), items)


def plan_rate_deck(plan: ServicePlan | None) -> str | None:
    """The rate deck a plan names, as Kazoo's hotornot reads it: the item of its `ratedeck_name`
    (or older `ratedeck`) category, e.g. `{"plan": {"ratedeck_name": {"retail": {}}}}`."""
    if plan is None:
        return None
    for category in RATE_DECK_CATEGORIES:
        named = sorted(item for found, item in plan.items if found == category)
        if named:
            return named[0]
    return None


def merge_plans(plans: Sequence[ServicePlan]) -> ServicePlan:
    """Several plans on one account: a later plan's item replaces an earlier plan's same item."""
    items: dict[tuple[str, str], PlanItem] = {}
    for plan in plans:
        items.update(plan.items)
    return ServicePlan("+".join(plan.plan_id for plan in plans), " + ".join(plan.name for plan in plans), items)


# ----------------------------------------------------------------------------- pricing


def billable_quantity(item: PlanItem, quantity: int) -> int:
    if quantity <= 0:
        return 0  # a minimum bills for a service the account has, not for one it never took
    stepped = -(-quantity // item.step) * item.step
    held = max(stepped, item.minimum)
    return held if item.maximum is None else min(held, item.maximum)


def price_item(item: PlanItem, quantity: int) -> ItemPrice:
    quantity = _count(quantity, f"quantities.{item.category}.{item.item}")
    billable = billable_quantity(item, quantity)
    rate: int | None = None
    flat = _first_tier(item.flat_rates, billable, item.flat_rate)
    if flat is None:
        rate = _first_tier(item.rates, billable, item.rate)
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
    )


def price_services(plan: ServicePlan, quantities: Mapping[str, Mapping[str, int]]) -> list[ItemPrice]:
    """Every priced item with something billable, in (category, item) order. Quantities of items
    the plan does not price are not billed; `as` items add to the item they count as; `_all`
    prices the rest of its category."""
    counted: dict[tuple[str, str], int] = {}
    for category, items in quantities.items():
        for item, quantity in items.items():
            counted[(category, item)] = _count(quantity, f"quantities.{category}.{item}")
    for (category, item), quantity in list(counted.items()):
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
