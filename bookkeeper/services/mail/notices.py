"""Notices: queued with the billing pass when it says something the account must hear
(billing/notice_queue.py), sent by the mailer, each with a visible state (queued, sending,
emailed, no_recipients, failed).

Queuing is idempotent (the notice id is deterministic, see bookkeeper/domain/notices.py), so a
batch run twice queues nothing new. Sending claims the notice first (a write on its revision),
so two mailers never both send it; a mailer that dies after claiming leaves a claim that goes
stale after ten minutes (the `due` view in couch_views/kazbill_notices.json) and is sent again:
a rare duplicate email, never a lost one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, from_gregorian_seconds
from bookkeeper.domain.languages import locale_for
from bookkeeper.domain.notices import (
    gives_up,
    retry_delay_s,
)
from bookkeeper.domain.settings import SettingsError
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, Mailer, MailRejected, MailUnavailable, ViewQuery
from bookkeeper.services.billing.context import BillingContext, find_reseller, get_or_none, load_context
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from bookkeeper.services.mail.mail_from import sender_for
from bookkeeper.services.mail.notice_relevance import why_superseded
from bookkeeper.services.mail.notice_text import RESTORABLE, compose, mail_bodies, money_in

log = logging.getLogger("kazbill.notices")


@dataclass(frozen=True)
class MailReport:
    emailed: int = 0
    retrying: int = 0
    failed: int = 0
    no_recipients: int = 0
    skipped: int = 0  # claimed by another mailer meanwhile
    superseded: int = 0  # no longer true, or a newer one of the kind says it (notice_relevance.py)


def send_due_notices(
    store: DocumentStore,
    mailer: Mailer,
    *,
    sender: str,
    now_gregorian: int,
    limit: int = 100,
    public_url: str | None = None,
) -> MailReport:
    """`sender`: the operator's address (a reseller's own `mail_from` wins); `public_url`: where
    the payments page is, linked from every notice."""
    try:
        rows = store.query_view(
            NOTICES_DB, "kazbill_notices", "due", ViewQuery(end_key=now_gregorian, include_docs=True, limit=limit)
        ).rows
    except DatabaseNotFound:
        return MailReport()
    counts = {"emailed": 0, "retrying": 0, "failed": 0, "no_recipients": 0, "skipped": 0, "superseded": 0}
    for row in rows:
        if row.doc is None:
            continue
        outcome = _deliver(store, mailer, dict(row.doc), sender, now_gregorian, public_url)
        counts[outcome] += 1
        if outcome == "retrying":  # the server is away or busy: the rest waits for the next pass
            break
    return MailReport(**counts)


def _deliver(
    store: DocumentStore, mailer: Mailer, notice: dict[str, Any], sender: str, now: int, public_url: str | None
) -> str:
    try:
        notice = _save(store, {**notice, "state": "sending", "claimed_at": now})
    except Conflict:
        return "skipped"
    superseded = why_superseded(store, notice, now)
    if superseded is not None:
        _save(store, _moved(notice, "superseded", now, superseded))
        return "superseded"
    recipients = admin_emails(store, notice["account_id"])
    if not recipients:
        _save(store, _moved(notice, "no_recipients", now, "the account and its reseller have no admin with an email"))
        return "no_recipients"
    try:
        mailer.send(_message(store, notice, sender, recipients, now, public_url))
    except MailUnavailable as error:
        attempts = notice.get("attempts", 0) + 1
        if gives_up(attempts):
            _save(store, _moved(notice, "failed", now, str(error), attempts=attempts))
            log.error("notice %s failed for good after %d attempts: %s", notice["_id"], attempts, error)
            return "failed"
        _save(
            store,
            _moved(notice, "queued", now, str(error), attempts=attempts, next_attempt_at=now + retry_delay_s(attempts)),
        )
        return "retrying"
    except MailRejected as error:
        _save(store, _moved(notice, "failed", now, str(error), attempts=notice.get("attempts", 0) + 1))
        log.error("notice %s refused by the mail server: %s", notice["_id"], error)
        return "failed"
    _save(
        store,
        _moved(
            notice,
            "emailed",
            now,
            None,
            attempts=notice.get("attempts", 0) + 1,
            emailed_at=now,
            recipients=[email for email, _ in recipients],
        ),
    )
    return "emailed"


def _moved(notice: dict[str, Any], state: str, now: int, reason: str | None, **fields: Any) -> dict[str, Any]:
    history = [*notice.get("history", []), {"state": state, "at": now, **({"reason": reason} if reason else {})}]
    return {**notice, **fields, "state": state, "reason": reason, "history": history[-20:]}


def _save(store: DocumentStore, notice: dict[str, Any]) -> dict[str, Any]:
    written = store.put(NOTICES_DB, notice)
    return {**notice, "_rev": written.rev}


def admin_emails(store: DocumentStore, account_id: str) -> list[tuple[str, str]]:
    """(email, name) of the account's admins; if it has none, its reseller's."""
    found = _admins(store, account_id)
    if found:
        return found
    account = get_or_none(store, ACCOUNTS_DB, account_id)
    if account is None:
        return []
    try:
        _, reseller_id, _ = find_reseller(store, account)
    except SettingsError:
        return []
    return _admins(store, reseller_id) if reseller_id != account_id else []


def _admins(store: DocumentStore, account_id: str) -> list[tuple[str, str]]:
    try:
        rows = store.query_view(account_db(account_id), "kazbill_users", "admin_emails").rows
    except DatabaseNotFound:
        return []
    return [(row.key, " ".join(part for part in row.value if part).strip()) for row in rows]


def _message(
    store: DocumentStore,
    notice: Mapping[str, Any],
    sender: str,
    recipients: list[tuple[str, str]],
    now: int,
    public_url: str | None,
) -> EmailMessage:
    account_id = notice["account_id"]
    context: BillingContext | None
    try:
        context = load_context(store, account_id)
        name, currency, language = context.account_name, context.reseller.currency, context.account.language
        locale = locale_for(language, context.reseller.locale)
    except Exception:  # noqa: BLE001 - settings broken since queuing: the email still goes, amounts plain
        context, name, currency, locale, language = None, account_id, None, "en_US", "en"
    money = money_in(currency, locale)
    subject, body = compose(
        notice["kind"],
        {**notice.get("details", {}), "day": notice.get("day")},
        account_name=name,
        language=language,
        money=money,
    )
    standing = get_or_none(store, account_db(account_id), "kazbill_standing") or {}
    restore = standing.get("amount_to_restore") if notice["kind"] in RESTORABLE else None
    page = f"{public_url.rstrip('/')}/portal/accounts/{account_id}" if public_url else None
    text, html = mail_bodies(
        body, language, restore=money(restore) if isinstance(restore, int) and restore else None, page=page
    )
    message = EmailMessage()
    message["From"] = sender_for(store, context, sender)
    message["To"] = ", ".join(formataddr((person, email)) for email, person in recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(from_gregorian_seconds(now), usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "kazbill")
    message["X-Kazbill-Notice"] = notice["_id"]  # what a resent copy can be recognised by
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
