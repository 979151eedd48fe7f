"""A reseller's gateway settings: `paypal_config`, `yandex_money_config` and `braintree_config`
documents in the reseller's own database (the reference app's names), one per gateway.

Each setting has a reader that names the field it refuses. Secrets (Yandex's notification secret
and shop password, Braintree's private key) are stored as given and shown only masked; a write
that sends the masked text back, or leaves a secret out, keeps the stored one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.money import UNITS_PER_MAJOR, MoneyError, exact_units, from_json_number

GATEWAY_DOCS = ("paypal_config", "yandex_money_config", "braintree_config")
MASK = "****"


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _text(pattern: str, what: str) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(f"must be {what}")
        return value

    return read


def _one_of(*options: str) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return read


def _amount(value: Any) -> int:
    """Limits are written in currency units (12.50), like every amount of the API."""
    try:
        return exact_units(from_json_number(value) if not isinstance(value, str) else value)
    except MoneyError as error:
        raise ValueError(error.reason) from None


EMAIL = r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}"
_SECRET = _text(r"[\x21-\x7e]{8,200}", "8 to 200 printable characters without spaces")
_KEY = _text(r"[A-Za-z0-9_-]{1,100}", "letters, digits, _ or -")

READERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "paypal_config": {
        "enabled": _flag,
        "sandbox": _flag,
        "receiver_id": _text(r"[A-Z0-9]{6,20}", "a PayPal merchant id"),
        "receiver_email": _text(EMAIL, "an email address"),
        "currency": _text(r"[A-Z]{3}", "an ISO 4217 code"),
        "min_amount": _amount,
        "max_amount": _amount,
    },
    "yandex_money_config": {
        "enabled": _flag,
        "wallet": _text(r"\d{11,20}", "a YooMoney wallet number"),
        "notification_secret": _SECRET,
        "shop_id": _text(r"\d{1,12}", "a shop id (digits)"),
        "scid": _text(r"\d{1,12}", "a showcase id (digits)"),
        "shop_password": _SECRET,
        "test_mode": _flag,
        "min_amount": _amount,
        "max_amount": _amount,
    },
    "braintree_config": {
        "enabled": _flag,
        "environment": _one_of("sandbox", "production"),
        "merchant_id": _KEY,
        "public_key": _KEY,
        "private_key": _SECRET,
        "merchant_account_id": _KEY,
        "min_amount": _amount,
        "max_amount": _amount,
    },
}
SECRETS = {
    "paypal_config": (),
    "yandex_money_config": ("notification_secret", "shop_password"),
    "braintree_config": ("private_key",),
}
REQUIRED_WHEN_ENABLED = {
    "paypal_config": (("receiver_id", "receiver_email"),),  # one of them at least
    "yandex_money_config": (("wallet", "shop_id"),),
    "braintree_config": (("merchant_id",), ("public_key",), ("private_key",)),
}
PAIRS = {"yandex_money_config": (("wallet", "notification_secret"), ("shop_id", "shop_password"), ("shop_id", "scid"))}


@dataclass(frozen=True)
class GatewaySettings:
    kind: str  # one of GATEWAY_DOCS
    values: Mapping[str, Any]  # parsed: amounts in units

    @property
    def enabled(self) -> bool:
        return bool(self.values.get("enabled"))

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def within_limits(self, amount: int) -> str | None:
        """Why an amount may not be paid through this gateway, or None."""
        low, high = self.values.get("min_amount"), self.values.get("max_amount")
        if low is not None and amount < low:
            return f"is below the minimum of {Decimal(low) / UNITS_PER_MAJOR}"
        if high is not None and amount > high:
            return f"is above the maximum of {Decimal(high) / UNITS_PER_MAJOR}"
        return None


def parse_gateway_settings(kind: str, doc: Mapping[str, Any], reseller_currency: str) -> GatewaySettings:
    """The settings of one gateway, or GatewayFieldError naming the first field that is wrong."""
    values = _read_values(kind, doc)
    _check_together(kind, values, reseller_currency)
    return GatewaySettings(kind, values)


def _read_values(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each setting given, read on its own: the private fields and nulls left out."""
    readers = READERS[kind]
    values: dict[str, Any] = {}
    for key, raw in doc.items():
        if key.startswith(("_", "pvt_")) or raw is None:
            continue
        if key not in readers:
            raise GatewayFieldError(key, f"not a setting of {kind}; expected one of {', '.join(readers)}")
        try:
            values[key] = readers[key](raw)
        except ValueError as error:
            raise GatewayFieldError(key, str(error)) from None
    return values


def _check_together(kind: str, values: Mapping[str, Any], reseller_currency: str) -> None:
    """What the settings must be together: the required ones when enabled, the pairs, the
    reseller's currency, a minimum no greater than the maximum."""
    if values.get("enabled"):
        for alternatives in REQUIRED_WHEN_ENABLED[kind]:
            if not any(values.get(key) for key in alternatives):
                raise GatewayFieldError(
                    alternatives[0],
                    f"is required to enable {kind}"
                    if len(alternatives) == 1
                    else f"{' or '.join(alternatives)} is required to enable {kind}",
                )
    for needs, needed in PAIRS.get(kind, ()):
        if values.get(needs) and not values.get(needed):
            raise GatewayFieldError(needed, f"is required with {needs}")
    if kind == "paypal_config" and values.get("currency", reseller_currency) != reseller_currency:
        raise GatewayFieldError("currency", f"must be the reseller's currency, {reseller_currency}")
    if kind == "yandex_money_config" and values.get("enabled") and reseller_currency != "RUB":
        raise GatewayFieldError("enabled", f"YooMoney pays in roubles; this reseller bills in {reseller_currency}")
    low, high = values.get("min_amount"), values.get("max_amount")
    if low is not None and high is not None and low > high:
        raise GatewayFieldError("max_amount", "must not be below min_amount")


def mask_secret(secret: str) -> str:
    return MASK + secret[-4:]


def masked(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as a reseller sees it: no private fields, secrets reduced to their last 4."""
    shown = {key: value for key, value in doc.items() if not key.startswith(("_", "pvt_"))}
    for key in SECRETS[kind]:
        if isinstance(shown.get(key), str):
            shown[key] = mask_secret(shown[key])
    return shown


def merged_update(kind: str, stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """A write: the given keys replace the stored ones, `null` removes one; a secret sent back
    masked (or left out) stays as stored, so a UI can round-trip what it read."""
    merged = dict(stored)
    for key, value in incoming.items():
        if key in SECRETS[kind] and isinstance(value, str) and value.startswith(MASK):
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class SettingField:
    """How a form asks for one setting: a switch, a choice, an amount, a secret or a text."""

    name: str
    kind: str  # "flag", "choice", "amount", "secret", "text"
    choices: tuple[str, ...] = ()


_CHOICES = {("braintree_config", "environment"): ("sandbox", "production")}


def setting_fields(kind: str) -> tuple[SettingField, ...]:
    """The settings of a gateway in the order its form asks for them."""

    def field_of(name: str, reader: Callable[[Any], Any]) -> SettingField:
        if reader is _flag:
            return SettingField(name, "flag")
        if (kind, name) in _CHOICES:
            return SettingField(name, "choice", _CHOICES[(kind, name)])
        if reader is _amount:
            return SettingField(name, "amount")
        return SettingField(name, "secret" if name in SECRETS[kind] else "text")

    return tuple(field_of(name, reader) for name, reader in READERS[kind].items())
