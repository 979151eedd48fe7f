"""The words of each notice, in English, Russian and German (the account's language picks; English is
the fallback). Plain text: these are short, and every mail client shows plain text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bookkeeper.domain.documents.dates import shown_day
from bookkeeper.domain.money import to_major
from bookkeeper.domain.standing_words import items_in, reason_in
from bookkeeper.money_display import format_money

TEXTS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "en": {
        "period_charged": (
            "{account}: new billing period charged",
            "The period {period_start} to {period_end} has started and its monthly charges were "
            "taken from your balance. Balance at the start: {opening_balance}.",
        ),
        "period_unpaid": (
            "{account}: the new period could not be paid",
            "The period {period_start} to {period_end} has started, but your balance "
            "({opening_balance}) does not cover its charges. Please top up your account.",
        ),
        "services_cancelled": (
            "{account}: services cancelled",
            "Some services were cancelled because the balance did not cover them: {items}.",
        ),
        "service_suspended": (
            "{account}: service suspended",
            "Your service is suspended ({reasons}). A payment restores it.",
        ),
        "trial_expired": (
            "{account}: your trial has ended",
            "Your trial period is over. Top up your balance to keep the service running.",
        ),
        "low_balance": (
            "{account}: low balance",
            "Your balance is {balance}, below the {threshold} your provider warns at, since {below_since}.",
        ),
        "period_approaching": (
            "{account}: the next period starts on {next_period_start}",
            "The next billing period starts on {next_period_start} and costs {next_period_cost}. "
            "You can spend {balance} (plus a credit line of {credit_line}): please top up "
            "at least {shortfall}.",
        ),
        "topup_succeeded": (
            "{account}: balance topped up by {amount}",
            "Your balance fell below your auto top-up threshold, so your saved card was charged "
            "{amount} (transaction {transaction_id}). Balance now: {balance}.",
        ),
        "topup_failed": (
            "{account}: auto top-up failed",
            "Your saved card could not be charged {amount}: {reason}.{switched_off_text}",
        ),
    },
    "ru": {
        "period_charged": (
            "{account}: начат новый расчётный период",
            "Период с {period_start} по {period_end} начат, ежемесячные платежи списаны с баланса. "
            "Баланс на начало периода: {opening_balance}.",
        ),
        "period_unpaid": (
            "{account}: новый период не оплачен",
            "Период с {period_start} по {period_end} начат, но баланса ({opening_balance}) "
            "недостаточно для его оплаты. Пожалуйста, пополните счёт.",
        ),
        "services_cancelled": (
            "{account}: услуги отключены",
            "Часть услуг отключена из-за недостатка средств: {items}.",
        ),
        "service_suspended": (
            "{account}: обслуживание приостановлено",
            "Обслуживание приостановлено ({reasons}). После оплаты оно будет возобновлено.",
        ),
        "trial_expired": (
            "{account}: пробный период закончился",
            "Пробный период закончился. Пополните баланс, чтобы услуги продолжили работать.",
        ),
        "low_balance": (
            "{account}: низкий баланс",
            "Ваш баланс {balance}, это ниже порога {threshold}, установленного провайдером, с {below_since}.",
        ),
        "period_approaching": (
            "{account}: новый период начнётся {next_period_start}",
            "Новый расчётный период начнётся {next_period_start}, его стоимость {next_period_cost}. "
            "Доступно {balance} (и кредит {credit_line}): пополните счёт хотя бы на {shortfall}.",
        ),
        "topup_succeeded": (
            "{account}: баланс пополнен на {amount}",
            "Баланс опустился ниже порога автопополнения, с сохранённой карты списано {amount} "
            "(транзакция {transaction_id}). Баланс сейчас: {balance}.",
        ),
        "topup_failed": (
            "{account}: автопополнение не удалось",
            "Не удалось списать {amount} с сохранённой карты: {reason}.{switched_off_text}",
        ),
    },
    "de": {
        "period_charged": (
            "{account}: neuer Abrechnungszeitraum berechnet",
            "Der Zeitraum vom {period_start} bis {period_end} hat begonnen, und die monatlichen Gebühren wurden "
            "von Ihrem Guthaben abgebucht. Guthaben zu Beginn: {opening_balance}.",
        ),
        "period_unpaid": (
            "{account}: der neue Zeitraum konnte nicht bezahlt werden",
            "Der Zeitraum vom {period_start} bis {period_end} hat begonnen, aber Ihr Guthaben "
            "({opening_balance}) deckt die Gebühren nicht. Bitte laden Sie Ihr Konto auf.",
        ),
        "services_cancelled": (
            "{account}: Leistungen deaktiviert",
            "Einige Leistungen wurden deaktiviert, da Ihr Guthaben sie nicht deckte: {items}.",
        ),
        "service_suspended": (
            "{account}: Dienst gesperrt",
            "Ihr Dienst ist gesperrt ({reasons}). Nach einer Zahlung wird er wieder freigeschaltet.",
        ),
        "trial_expired": (
            "{account}: Ihr Testzeitraum ist abgelaufen",
            "Ihr Testzeitraum ist beendet. Laden Sie Ihr Guthaben auf, damit der Dienst weiterläuft.",
        ),
        "low_balance": (
            "{account}: niedriges Guthaben",
            "Ihr Guthaben beträgt {balance} und liegt seit {below_since} unter der Warnschwelle Ihres "
            "Anbieters von {threshold}.",
        ),
        "period_approaching": (
            "{account}: der nächste Zeitraum beginnt am {next_period_start}",
            "Der nächste Abrechnungszeitraum beginnt am {next_period_start} und kostet {next_period_cost}. "
            "Ihnen stehen {balance} zur Verfügung (zuzüglich eines Kreditrahmens von {credit_line}): bitte "
            "laden Sie mindestens {shortfall} auf.",
        ),
        "topup_succeeded": (
            "{account}: Guthaben um {amount} aufgeladen",
            "Ihr Guthaben ist unter die Schwelle für die automatische Aufladung gefallen, daher wurde Ihre "
            "gespeicherte Karte mit {amount} belastet (Transaktion {transaction_id}). Aktuelles Guthaben: "
            "{balance}.",
        ),
        "topup_failed": (
            "{account}: automatische Aufladung fehlgeschlagen",
            "Ihre gespeicherte Karte konnte nicht mit {amount} belastet werden: {reason}.{switched_off_text}",
        ),
    },
}
DATE_FIELDS = ("period_start", "period_end", "next_period_start", "below_since", "day")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
AMOUNT_FIELDS = ("opening_balance", "balance", "threshold", "next_period_cost", "credit_line", "shortfall", "amount")
# The notices after which a payment restores the service: they say how much it takes.
RESTORABLE = ("service_suspended", "period_unpaid")
RESTORE = {
    "en": "To restore service, pay at least {amount}.",
    "ru": "Для восстановления обслуживания оплатите не менее {amount}.",
    "de": "Um den Dienst wieder freizuschalten, zahlen Sie bitte mindestens {amount}.",
}
PAY_ONLINE = {
    "en": "Pay online and see your balance and documents",
    "ru": "Оплатить онлайн, баланс и документы",
    "de": "Online bezahlen sowie Guthaben und Dokumente einsehen",
}
EVENT_DAY = {
    "en": "Date of the event: {day}.",
    "ru": "Дата события: {day}.",
    "de": "Datum des Ereignisses: {day}.",
}  # every notice says when
SWITCHED_OFF = {
    "en": " Auto top-up is now switched off; turn it on again once the card is fixed.",
    "ru": " Автопополнение отключено; включите его снова, когда карта будет исправна.",
    "de": " Die automatische Aufladung ist nun deaktiviert; aktivieren Sie sie wieder, sobald das Problem mit "
    "der Karte behoben ist.",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "—"  # a detail an older notice did not carry: say nothing rather than fail the email


def compose(
    kind: str, details: Mapping[str, Any], *, account_name: str, language: str, money: Callable[[int], str]
) -> tuple[str, str]:
    lang = language[:2].lower()
    texts = TEXTS.get(lang, TEXTS["en"])
    subject, body = texts.get(kind) or TEXTS["en"][kind]
    values = _Blank({key: value for key, value in details.items() if not isinstance(value, (dict, list))})
    for key in AMOUNT_FIELDS:
        if isinstance(details.get(key), int):
            values[key] = money(details[key])
    values["account"] = account_name
    pairs = [item for item in details.get("items", ()) if isinstance(item, (list, tuple))]
    values["items"] = ", ".join(items_in(pairs, details.get("names"), lang)) or "—"
    values["reasons"] = ", ".join(reason_in(str(reason), lang) for reason in details.get("reasons", ())) or "—"
    for key in DATE_FIELDS:  # a Russian or German reader never meets an ISO date
        if isinstance(values.get(key), str) and ISO_DAY.fullmatch(values[key]):
            values[key] = shown_day(date.fromisoformat(values[key]), lang)
    values["switched_off_text"] = SWITCHED_OFF.get(lang, SWITCHED_OFF["en"]) if details.get("switched_off") else ""
    body = body.format_map(values)
    if isinstance(details.get("day"), str):
        day = details["day"]
        shown = shown_day(date.fromisoformat(day), lang) if ISO_DAY.fullmatch(day) else day
        body += "\n\n" + EVENT_DAY.get(lang, EVENT_DAY["en"]).format(day=shown)
    return subject.format_map(values), body


def money_in(currency_code: str | None, locale: str) -> Callable[[int], str]:
    if currency_code is None:  # the account's settings could not be read: say the amount plainly
        return lambda units: f"{to_major(units):.2f}"
    return lambda units: format_money(units, currency_code, locale)


def mail_bodies(body: str, language: str, *, restore: str | None, page: str | None) -> tuple[str, str]:
    """The plain text and the HTML of one notice: its words, what restores the service (when it
    is suspended for money), and the payments page."""
    lang = language[:2].lower() if language[:2].lower() in TEXTS else "en"
    paragraphs = body.split("\n\n")
    if restore:
        paragraphs.insert(1, RESTORE[lang].format(amount=restore))
    text = "\n\n".join(paragraphs + ([f"{PAY_ONLINE[lang]}: {page}"] if page else []))
    shown = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    if page:
        shown += f'<p><a href="{html.escape(page, quote=True)}">{html.escape(PAY_ONLINE[lang])}</a></p>'
    return text + "\n", f'<!doctype html><html lang="{lang}"><body>{shown}</body></html>\n'
