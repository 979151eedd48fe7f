"""Per-minute rating: Kazoo's rate documents, which rate a call takes, and what the call costs.

A rate (Kazoo's `rates.json`) says, for numbers starting with `prefix`: `rate_cost` per minute
and `rate_surcharge` per call (currency units, as Kazoo writes them), billed in slices of
`rate_increment` seconds after a first slice of `rate_minimum` seconds, nothing at all for calls
of at most `rate_nocharge_time` seconds. Kazoo's hotornot defaults apply to what a rate leaves
out (60-second minimum and increment, no free time, no surcharge).

The cost follows Kazoo's `wht_util:calculate_cost` slice for slice, but exactly: Kazoo truncates
the float result to a unit, Kazbill keeps Decimals and rounds once, half away from zero, like
every ledger amount.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bookkeeper.domain.money import LEDGER_ROUNDING, UNITS_PER_MAJOR, MoneyError, from_json_number, round_units

DEFAULT_INCREMENT_S = 60
DEFAULT_MINIMUM_S = 60
DIRECTIONS = ("inbound", "outbound")
MAX_PREFIX_DIGITS = 15  # E.164 numbers have at most 15 digits
MAX_ROUTE_LENGTH = 200


class RateError(ValueError):
    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field, self.reason = field_name, reason


@dataclass(frozen=True)
class Rate:
    rate_id: str
    prefix: str  # digits
    cost_per_minute: Decimal  # units (10,000 to a currency unit), exact
    surcharge: Decimal = Decimal(0)  # units per call
    increment_s: int = DEFAULT_INCREMENT_S
    minimum_s: int = DEFAULT_MINIMUM_S
    nocharge_s: int = 0
    direction: tuple[str, ...] = ()  # empty: both directions
    options: frozenset[str] = frozenset()  # the call must have every one of these
    routes: tuple[re.Pattern, ...] = ()  # if any, the number must match one
    weight: int = 50  # 1 most preferred, 100 least
    name: str = ""
    carrier: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # description, iso_country_code...

    def applies_to(self, number: str, direction: str | None, options: frozenset[str]) -> bool:
        if self.direction and direction not in self.direction:
            return False
        if not self.options <= options:
            return False
        return not self.routes or any(route.search(number) or route.search("+" + number) for route in self.routes)


def _number(doc: Mapping[str, Any], key: str) -> Decimal:
    try:
        value = from_json_number(doc.get(key, 0), key)
    except MoneyError as error:
        raise RateError(key, error.reason) from None
    if value < 0:
        raise RateError(key, "must not be negative")
    return value


def _seconds(doc: Mapping[str, Any], key: str, default: int, least: int) -> int:
    value = doc.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < least or value > 86_400:
        raise RateError(key, f"must be a whole number of seconds, at least {least}")
    return value


def _strings(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key) or []
    if isinstance(value, str):
        value = [part for part in re.split(r"[:;,\s]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RateError(key, "must be a list of strings")
    return tuple(value)


def parse_rate(doc: Mapping[str, Any]) -> Rate:
    """A Kazoo rate document as a Rate; RateError names the field that cannot be used."""
    prefix = str(doc.get("prefix", "")).strip().lstrip("+")
    if not prefix.isdigit() or len(prefix) > MAX_PREFIX_DIGITS:
        raise RateError("prefix", f"{doc.get('prefix')!r} is not an E.164 prefix (digits, at most 15)")
    direction = _strings(doc, "direction")
    if any(item not in DIRECTIONS for item in direction):
        raise RateError("direction", f"must be inbound and/or outbound, not {', '.join(direction)}")
    routes = []
    for route in _strings(doc, "routes"):
        try:
            if len(route) > MAX_ROUTE_LENGTH:
                raise re.error("too long")
            routes.append(re.compile(route))
        except re.error as error:
            raise RateError("routes", f"{route[:40]!r} is not a usable regular expression ({error})") from None
    weight = doc.get("weight", 50)
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        raise RateError("weight", "must be a whole number from 1 (most preferred) to 100")
    if "rate_cost" not in doc:
        raise RateError("rate_cost", "is required")
    return Rate(
        rate_id=str(doc.get("_id") or doc.get("rate_name") or prefix),
        prefix=prefix,
        cost_per_minute=_number(doc, "rate_cost") * UNITS_PER_MAJOR,
        surcharge=_number(doc, "rate_surcharge") * UNITS_PER_MAJOR,
        increment_s=_seconds(doc, "rate_increment", DEFAULT_INCREMENT_S, 1),
        minimum_s=_seconds(doc, "rate_minimum", DEFAULT_MINIMUM_S, 1),
        nocharge_s=_seconds(doc, "rate_nocharge_time", 0, 0),
        direction=direction,
        options=frozenset(_strings(doc, "options")),
        routes=tuple(routes),
        weight=weight,
        name=str(doc.get("rate_name") or ""),
        carrier=str(doc.get("carrier") or ""),
        extra={key: doc[key] for key in ("description", "iso_country_code", "ratedeck_id") if key in doc},
    )


@dataclass(frozen=True)
class CallCost:
    amount: int  # units, rounded once
    billed_seconds: int  # the seconds charged for (minimum, then whole increments)
    free: bool  # within the no-charge time (or no billing seconds at all)


def call_cost(rate: Rate, billing_seconds: int) -> CallCost:
    if isinstance(billing_seconds, bool) or not isinstance(billing_seconds, int) or billing_seconds < 0:
        raise RateError("billing_seconds", "must be a whole number of seconds, not negative")
    if billing_seconds == 0 or billing_seconds <= rate.nocharge_s:
        return CallCost(0, 0, True)
    billed = rate.minimum_s
    if billing_seconds > rate.minimum_s:
        billed += math.ceil((billing_seconds - rate.minimum_s) / rate.increment_s) * rate.increment_s
    exact = rate.surcharge + rate.cost_per_minute * billed / 60
    return CallCost(round_units(exact, LEDGER_ROUNDING), billed, False)


class RateDeck:
    """Rates indexed by prefix: the longest prefix that has a rate applying to the call wins;
    among rates of one prefix, the lowest weight, then the cheapest, then the name. A lookup is
    at most 15 dictionary probes, however many prefixes the deck holds."""

    def __init__(self, rates: Sequence[Rate]):
        self._by_prefix: dict[str, list[Rate]] = {}
        for rate in rates:
            self._by_prefix.setdefault(rate.prefix, []).append(rate)
        for candidates in self._by_prefix.values():
            candidates.sort(key=lambda rate: (rate.weight, rate.cost_per_minute, rate.name, rate.rate_id))
        self._longest = max((len(prefix) for prefix in self._by_prefix), default=0)

    def __len__(self) -> int:
        return sum(len(candidates) for candidates in self._by_prefix.values())

    def find(self, number: str, direction: str | None = None, options: frozenset[str] = frozenset()) -> Rate | None:
        digits = number.lstrip("+")
        for length in range(min(len(digits), self._longest), 0, -1):
            for rate in self._by_prefix.get(digits[:length], ()):
                if rate.applies_to(digits, direction, options):
                    return rate
        return None
