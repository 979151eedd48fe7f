"""The readers of an `onbill` document's values: each takes a value that is set (not null) and
gives it back parsed, or refuses it in words that say what is wrong; `RESELLER_READERS` and
`ACCOUNT_READERS` say which keys Kazbill reads, and with which reader (bookkeeper.domain.settings
puts them together)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bookkeeper.domain.documents.carriers import CarrierError, parse_carriers
from bookkeeper.domain.kazoo_names import RATEDECK_NAME_RE
from bookkeeper.domain.low_balance import valid_reminder_days
from bookkeeper.domain.money import currency, from_json_number, units_from_major
from bookkeeper.domain.periods import time_zone, validate_billing_day

CHARGING_SCHEMES = ("monthly", "daily")
VAT_DISPOSITIONS = ("netto", "brutto", "none")
PAYMENT_TYPES = ("prepay", "postpay")


class Refused(ValueError):
    """Raised by a value reader, which knows neither the account nor the key; its caller does."""

    def __init__(self, reason: str, subfield: str = ""):
        super().__init__(reason)
        self.reason, self.subfield = reason, subfield


# ----------------------------------------------------------------------------- value readers
# Each parses a value that is present and not null, or raises Refused or the domain's own
# ValueError (MoneyError, UnknownTimeZone, InvalidBillingDay), whose words say what is wrong.


def _checked(is_valid: Callable[[Any], bool], reason: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if not is_valid(value):
            raise Refused(reason)
        return value

    return read


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int to Python, not to us


flag = _checked(lambda value: isinstance(value, bool), "must be true or false")
_text = _checked(lambda value: isinstance(value, str) and bool(value.strip()), "must be a non-empty string")
_days = _checked(lambda value: _is_whole(value) and value >= 0, "must be a whole number of days, 0 or more")
gregorian_seconds = _checked(_is_whole, "must be Gregorian seconds (a whole number)")
_mail_address = _checked(
    lambda value: (
        isinstance(value, str)
        and len(value) <= 254
        and bool(re.fullmatch(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}", value))
    ),
    "must be an email address (name@example.com)",
)
_deck_name = _checked(
    lambda value: isinstance(value, str) and bool(RATEDECK_NAME_RE.match(value)),
    "must be a rate deck's name: lowercase letters, digits, _ or -, at most 40",
)


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str]:
    return _checked(lambda value: isinstance(value, str) and value in options, f"must be one of {', '.join(options)}")


def _charging(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise Refused("must be an object of category → monthly or daily")
    for category, scheme in value.items():
        if not isinstance(scheme, str) or scheme not in CHARGING_SCHEMES:
            raise Refused(f"must be one of {', '.join(CHARGING_SCHEMES)}, not {scheme!r}", str(category))
    return MappingProxyType(dict(value))


def _cancellable(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise Refused('must be an object of category → item names, e.g. {"limits": ["twoway_trunks"]}')
    pairs: list[tuple[str, str]] = []
    for category, items in value.items():
        if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
            raise Refused("must be a list of item names", str(category))
        pairs.extend((str(category), item) for item in items)
    return tuple(pairs)


def _carriers(value: Any) -> tuple[Mapping[str, Any], ...]:
    """The legal entities that issue the reseller's documents, checked by the documents' own
    rules (bookkeeper.domain.documents.carriers) before they are stored: unique ids, one main
    carrier, known document types, numbering rules, call patterns that compile."""
    if not isinstance(value, list):
        raise Refused("must be a list of carriers")
    try:
        parse_carriers(value)
    except CarrierError as error:
        raise Refused(error.reason, error.field.removeprefix("carriers")) from None
    return tuple(MappingProxyType(dict(carrier)) for carrier in value)


def _codes(value: Any) -> Mapping[str, str]:
    """Extra codes a reseller's invoices show per category (a tax office's service code, say)."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 32 for k, v in value.items()
    ):
        raise Refused("must map plan categories to codes of 1-32 characters")
    return MappingProxyType(dict(value))


def _reminder_days(value: Any) -> tuple[int, ...]:
    days = valid_reminder_days(value)
    if days is None:
        raise Refused("must list 1 to 10 days of a low-balance spell, ascending, each from 1 to 90 (e.g. [1, 3, 7])")
    return days


def _vat_rate(value: Any) -> Decimal:
    rate = from_json_number(value)
    if not 0 <= rate <= 100:
        raise Refused("must be a percentage from 0 to 100")
    return rate


def amount_in_units(value: Any) -> int:
    """Kazoo's rule for amounts in documents: an integer is units, a decimal is currency units."""
    if isinstance(value, bool):
        raise Refused("must be an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and "." not in value:
        if not value.strip().lstrip("+-").isdigit():
            raise Refused(f"{value!r} is not an amount")
        return int(value)
    return units_from_major(from_json_number(value))


RESELLER_READERS: dict[str, Callable[[Any], Any]] = {
    "currency": lambda value: currency(value).code,
    "timezone": lambda value: time_zone(value).key,
    "locale": _text,
    "charging": _charging,
    "force_first_billing_day": flag,
    "default_billing_day": validate_billing_day,
    "prorate_new_accounts": flag,
    "prorated_credits": flag,
    "cancellable": _cancellable,
    "blocking_enabled": flag,
    "new_account_grace_days": _days,
    "default_service_plan": _text,
    "vat_disposition": _one_of(VAT_DISPOSITIONS),
    "vat_rate": _vat_rate,
    "low_balance_threshold": amount_in_units,
    "low_balance_reminder_days": _reminder_days,
    "carriers": _carriers,
    "default_rate_deck": _deck_name,
    "documents_to": _one_of(("account", "reseller")),
    "mail_from": _mail_address,
    "category_codes": _codes,
}
ACCOUNT_READERS: dict[str, Callable[[Any], Any]] = {
    "billing_day": validate_billing_day,
    "payment_type": _one_of(PAYMENT_TYPES),
    "manual_block": flag,
    "language": _text,
    "rate_deck": _deck_name,
    "aggregate_invoice": flag,
}
