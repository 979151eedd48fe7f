"""What an account's standing and its cancelled services are called in each language.

The standing's reasons are kept as English sentences (kazbill_standing.reasons; the API shows
them as they are), so a notice or the payments page in Russian or German translates them here,
sentence by sentence, amounts and dates carried over. A reason this module does not know is
shown as it is rather than dropped. The trunks a prepay account loses for lack of funds are
named by the plan where the event recorded the plan's names; events written before that, and
plans without names, get these words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bookkeeper.domain.documents.dates import shown_day

_REASONS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (
        re.compile(r"the period's charges are not covered"),
        {"ru": "расходы периода не покрыты", "de": "die Kosten des Zeitraums sind nicht gedeckt"},
    ),
    (
        re.compile(r"balance (?P<balance>-?[\d.]+) below credit line(?: of (?P<line>[\d.]+))?"),
        {
            "ru": "баланс {balance} ниже кредитного лимита{line_ru}",
            "de": "Guthaben {balance} unter dem Kreditrahmen{line_de}",
        },
    ),
    (
        re.compile(r"allowed in new-account grace through (?P<day>\d{4}-\d{2}-\d{2})"),
        {"ru": "льготный период нового счёта до {day}", "de": "Kulanzzeit für neue Konten bis {day}"},
    ),
    (re.compile(r"blocked manually"), {"ru": "заблокирован вручную", "de": "manuell gesperrt"}),
    (
        re.compile(r"blocked automatically for lack of funds"),
        {"ru": "заблокирован автоматически из-за недостатка средств", "de": "automatisch gesperrt mangels Guthaben"},
    ),
)
ITEM_WORDS = {
    ("limits", "twoway_trunks"): {"en": "two-way trunks", "ru": "двусторонние транки", "de": "bidirektionale Trunks"},
    ("limits", "inbound_trunks"): {"en": "inbound trunks", "ru": "входящие транки", "de": "eingehende Trunks"},
    ("limits", "outbound_trunks"): {"en": "outbound trunks", "ru": "исходящие транки", "de": "ausgehende Trunks"},
}


def reason_in(reason: str, language: str) -> str:
    """One standing reason in `language`; its parts (", allowed in ...") each translated."""
    if language == "en":
        return reason
    parts = []
    for part in reason.split(", "):
        for pattern, words in _REASONS:
            found = pattern.fullmatch(part)
            if found and language in words:
                values = {key: value or "" for key, value in found.groupdict().items()}
                if values.get("day"):
                    values["day"] = shown_day(date.fromisoformat(values["day"]), language)
                values["line_ru"] = f" {values['line']}" if values.get("line") else ""
                values["line_de"] = f" von {values['line']}" if values.get("line") else ""
                part = words[language].format(**values)
                break
        parts.append(part)
    return ", ".join(parts)


def item_in(category: str, item: str, language: str) -> str:
    """A cancelled service by its words in `language`, else as Kazoo names it."""
    words = ITEM_WORDS.get((category, item), {})
    return words.get(language) or words.get("en") or f"{category}/{item}"


def items_in(items: Sequence[Sequence[str]], names: Sequence[str] | None, language: str) -> list[str]:
    """The event's own names (the plan's, in the account's language) where it recorded them."""
    if names and len(names) == len(items):
        return [str(name) for name in names]
    return [item_in(str(pair[0]), str(pair[1]), language) if len(pair) == 2 else "/".join(pair) for pair in items]
