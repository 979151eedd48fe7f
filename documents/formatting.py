"""How documents write amounts and dates in each language: Russian "1 234,56" and "30.11.2026",
German "1.234,56" and "30.11.2026", English "1,234.56" and "30 November 2026". Amounts arrive in
minor units (integers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from babel import Locale

from bookkeeper.domain.documents.dates import shown_day
from bookkeeper.domain.documents.words import plural_ru


def amount(minor: int, digits: int, language: str) -> str:
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), 10**digits) if digits else (abs(minor), 0)
    grouped = f"{major:,}"
    if language in ("ru", "de"):
        # Russian groups thousands with a no-break space, German with a point; both a decimal comma.
        grouped = grouped.replace(",", "\u00a0" if language == "ru" else ".")
        return f"{sign}{grouped},{fraction:0{digits}d}" if digits else f"{sign}{grouped}"
    return f"{sign}{grouped}.{fraction:0{digits}d}" if digits else f"{sign}{grouped}"


def unit_price(units: int, digits: int, language: str) -> str:
    """A unit price, from Kazoo's units (1/10,000): at the currency's precision where that is
    exact ("350.00"), else with the digits it needs, at most four ("0.5806")."""
    places = digits
    while places < 4 and units % 10 ** (4 - places):
        places += 1
    return amount(units // 10 ** (4 - places), places, language)  # exact: the loop stops where it divides


def day(iso: str, language: str) -> str:
    return shown_day(date.fromisoformat(iso), language)


def day_ranges(ranges: list[list[str]], language: str) -> str:
    return ", ".join(
        day(first, language) if first == last else f"{day(first, language)}–{day(last, language)}"
        for first, last in ranges
    )


def counted(number: int, forms: Sequence[str], language: str) -> str:
    """ "1 call", "2 calls"; Russian: "1 звонок", "2 звонка", "5 звонков"."""
    if language == "ru":
        return f"{number} {plural_ru(number, (forms[0], forms[1], forms[2]))}"
    return f"{number} {forms[0] if number == 1 else forms[1]}"


def country(code: str, language: str) -> str:
    """A two-letter ISO 3166 code as the reader names the country (DE: Deutschland, Germany,
    Германия); anything else as it was given."""
    name = Locale.parse(language).territories.get(str(code).upper()) if len(str(code)) == 2 else None
    return name or str(code)
