"""How a day is written for a reader of each language: Russian and German "30.11.2026",
English "30 November 2026". One rule for the documents and the emails that carry them, so a Russian
customer never reads an ISO date in a subject line while the PDF says 30.11.2026."""

from __future__ import annotations

from datetime import date

_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def shown_day(value: date, language: str) -> str:
    if language in ("ru", "de"):
        return value.strftime("%d.%m.%Y")
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"
