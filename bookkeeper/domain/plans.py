"""Service plans in Kazoo's format: what a plan says, read and checked (what it charges: plan_pricing.py).

A plan prices items by category: `{"plan": {"devices": {"sip_device": {"rate": 500}}}}`.
The maths follows Kazoo's services: the quantity is stepped, then held between minimum and
maximum; the price comes from flat_rates, else flat_rate, else the tiered rates, else rate;
then discounts (single, cumulative) come off, and the cost never goes below zero. Amounts in a
plan are currency units (JSON numbers, parsed as Decimal at the edge); here they become units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
        return first_tier(self.tiers, quantity, self.amount) or 0


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
    names: Mapping[str, str] = field(default_factory=dict)  # the name in other languages: {"de": "Tischtelefon"}

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
    names: Mapping[str, str] = field(default_factory=dict)  # the item's name per language (PlanItem.names)


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


def first_tier(tiers: Sequence[Tier], quantity: int, otherwise: int | None) -> int | None:
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


def whole_count(value: Any, field: str, minimum: int = 0) -> int:
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
        else whole_count(value["maximum"], f"{field}.maximum"),
    )


def _names(value: Any, path: str) -> dict[str, str]:
    """Kazbill's translations of an item's name, per language code ({"ru": ..., "de": ...}):
    what a document or notice in that language calls it (the plain `name` elsewhere)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PlanError(path, 'must be an object of names per language, e.g. {"de": "Tischtelefon"}')
    for code, text in value.items():
        if not (isinstance(code, str) and len(code) == 2 and code.isalpha() and code.islower()):
            raise PlanError(f"{path}.{code}", "must be a two-letter language code (de, ru, en)")
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            raise PlanError(f"{path}.{code}", "must be a name of 1-200 characters")
    return {code: text.strip() for code, text in value.items()}


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
        names=_names(body.get("names"), f"{path}.names"),
        rate=None if body.get("rate") is None else _amount(body["rate"], f"{path}.rate"),
        rates=_tiers(body.get("rates", {}), f"{path}.rates"),
        flat_rate=None if body.get("flat_rate") is None else _amount(body["flat_rate"], f"{path}.flat_rate"),
        flat_rates=_tiers(body.get("flat_rates", {}), f"{path}.flat_rates"),
        minimum=whole_count(body.get("minimum", 0), f"{path}.minimum"),
        maximum=None if body.get("maximum") is None else whole_count(body["maximum"], f"{path}.maximum"),
        step=whole_count(body.get("step", 1), f"{path}.step", minimum=1),
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
    for (category, _item), parsed in items.items():
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
