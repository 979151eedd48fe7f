"""Amounts as gateways write them: decimal text ("12.50", "-3.00") in the currency's own unit.

A gateway never sends more digits than its currency has (kopecks, cents), so the text converts to
Kazoo units exactly; anything else (an exponent, a third decimal, a float-looking 12.499999) is a
tampered or broken notification and is refused, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bookkeeper.domain.money import UNITS_PER_MAJOR, currency

MAX_WHOLE_DIGITS = 12  # a trillion in any currency is not a payment


class GatewayFieldError(ValueError):
    """A notification field that cannot be accepted; the field is named for the operator."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def gateway_amount(text: object, currency_code: str, field: str, *, signed: bool = False) -> int:
    """Kazoo units from a gateway's amount text. `signed`: refunds arrive negative."""
    digits = currency(currency_code).minor_units
    fraction = rf"(\.\d{{1,{digits}}})?" if digits else ""
    pattern = rf"{'-?' if signed else ''}\d{{1,{MAX_WHOLE_DIGITS}}}{fraction}"
    if not isinstance(text, str) or not re.fullmatch(pattern, text):
        raise GatewayFieldError(
            field, f"{text!r} is not an amount in {currency_code} (digits, at most {digits} after the point)"
        )
    amount = int(Decimal(text) * UNITS_PER_MAJOR)  # exact: at most 4 decimals times 10,000
    if amount == 0:
        raise GatewayFieldError(field, "a payment of zero moves no money")
    return amount


def amount_text(amount_units: int, currency_code: str) -> str:
    """The gateway's text for an amount of units (what a payment form or a sale request sends)."""
    digits = currency(currency_code).minor_units
    value = Decimal(amount_units) / UNITS_PER_MAJOR
    if value != round(value, digits):
        raise GatewayFieldError("amount", f"{value} {currency_code} has more digits than the currency")
    return f"{value:.{digits}f}"
