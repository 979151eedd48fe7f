"""Money as a person reads it, in the reseller's locale (Babel). Kept outside the pure domain:
Babel reads its locale data from files."""

from __future__ import annotations

from babel.numbers import format_currency

from bookkeeper.domain.money import DISPLAY_ROUNDING, Rounding, currency, to_minor_units


def format_money(amount_units: int, code: str, locale: str = "en_US", policy: Rounding = DISPLAY_ROUNDING) -> str:
    """E.g. 5_000_000 RUB in ru_RU → "500,00 ₽". Rounded by our policy first: Babel's own
    rounding is half-even, and a document must agree with the ledger's half away from zero."""
    shown = to_minor_units(amount_units, code, policy)
    return format_currency(shown, currency(code).code, locale=locale.replace("-", "_"), currency_digits=True)
