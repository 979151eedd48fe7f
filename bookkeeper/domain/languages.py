"""Which language an account is written to in: its own, where Kazbill has words for it; else its
reseller's (the locale in the reseller's settings); else English. Documents, notices and the
payments page all follow the same choice, and the settings API shows it, so a customer who asked
for Finnish and reads German knows why.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED = ("en", "ru", "de")
FALLBACK = "en"


@dataclass(frozen=True)
class LanguageChoice:
    used: str  # one of SUPPORTED
    source: str  # "account", "reseller" or "default"
    asked: str | None  # what the account's settings say, as they say it


def code_of(tag: str | None) -> str | None:
    """ "de-DE", "de_AT", "DE" → "de"; None for nothing."""
    if not isinstance(tag, str) or len(tag.strip()) < 2:
        return None
    return tag.strip()[:2].lower()


def choose_language(asked: str | None, reseller_locale: str | None) -> LanguageChoice:
    own = code_of(asked)
    if own in SUPPORTED:
        return LanguageChoice(own, "account", asked)
    reseller = code_of(reseller_locale)
    if reseller in SUPPORTED:
        return LanguageChoice(reseller, "reseller", asked)
    return LanguageChoice(FALLBACK, "default", asked)


LOCALES = {"en": "en_US", "ru": "ru_RU", "de": "de_DE"}


def locale_for(language: str, reseller_locale: str | None) -> str:
    """How amounts are written for a reader: the reseller's locale where it is the reader's
    language (en_GB stays en_GB), else the language's usual one (a German reader of a Russian
    reseller reads "1.234,56 ₽")."""
    if reseller_locale and code_of(reseller_locale) == language:
        return reseller_locale
    return LOCALES.get(language, LOCALES[FALLBACK])
