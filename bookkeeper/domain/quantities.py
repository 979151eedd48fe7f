"""An account's quantities, as Kazoo's services count them, from the rows of the
`kazbill_quantities/holdings` view (couch_views/kazbill_quantities.json picks out users,
devices, fees and trunks; they are added up and numbers classified here, where a rule can be
tested).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bookkeeper.domain.errors import FieldError

Quantities = dict[str, dict[str, int]]


class QuantityError(FieldError):
    """An account document that cannot be counted (the field says which)."""


# Toll-free ranges of the countries our resellers serve; every other number is a DID.
_TOLL_FREE = re.compile(r"^\+(1(800|833|844|855|866|877|888)|7800|800|44800|44808|49800|380800)")
BILLABLE_NUMBER_STATES = ("in_service", "port_in")


def classify_number(number: str) -> str:
    return "tollfree" if _TOLL_FREE.match(number) else "did"


def quantities_from_views(
    billable_rows: Iterable[tuple[Any, Any]], number_rows: Iterable[tuple[str, Mapping[str, Any]]]
) -> Quantities:
    """`billable_rows`: (key [category, item], count), one row per live document or trunk (rows
    of one key add up); `number_rows`: (number, {state, features}), as
    kazbill_quantities/holdings lists them. Only numbers in service are billed."""
    quantities: Quantities = {}
    for key, count in billable_rows:
        category, item = key
        # A document's own words become the item (a device's device_type, a user's priv_level):
        # anything but text there is a document no one can bill by, named rather than guessed.
        if not isinstance(item, str):
            raise QuantityError(f"{category}", f"{item!r} is not an item name")
        if type(count) is not int:
            raise QuantityError(f"{category}.{item}", f"counted {count!r}: not a whole number")
        if count > 0:
            quantities.setdefault(category, {})[item] = quantities.get(category, {}).get(item, 0) + count
    for number, entry in number_rows:
        if not isinstance(entry, Mapping):
            raise QuantityError(f"phone_numbers.{number}", "must be an object")
        if entry.get("state") not in BILLABLE_NUMBER_STATES:
            continue
        numbers = quantities.setdefault("phone_numbers", {})
        kind = classify_number(number)
        numbers[kind] = numbers.get(kind, 0) + 1
        features = entry.get("features") or ()
        if not isinstance(features, (list, tuple)) or not all(isinstance(f, str) for f in features):
            raise QuantityError(f"phone_numbers.{number}.features", "must be a list of feature names")
        for feature in features:
            services = quantities.setdefault("number_services", {})
            services[feature] = services.get(feature, 0) + 1
    return quantities


def without(quantities: Mapping[str, Mapping[str, int]], cancelled: Iterable[tuple[str, str]]) -> Quantities:
    """The quantities left once the given items are cancelled (set to nothing)."""
    gone = set(cancelled)
    return {
        category: {item: count for item, count in items.items() if (category, item) not in gone}
        for category, items in quantities.items()
    }
