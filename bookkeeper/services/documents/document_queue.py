"""Rendering and emailing documents, off the event path, with retry and a visible state.

A job per document in `kazbill_document_queue` walks render → mail → done; the document itself
(in the account's monthly database) shows queued → rendered → emailed, or failed with the reason
(or no_recipients: rendered, and no admin has an email to send it to).
A pass claims each due job with a revision-checked write (two workers never do the same one),
so any number of document workers can run passes at once; a claim older than ten minutes is
due again (its worker died). A renderer that refuses the data, or a mail server that refuses
the message for good, fails the document at once; anything else is retried with the notices'
backoff and fails after as many attempts.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from bookkeeper.domain.notices import gives_up, retry_delay_s
from bookkeeper.ports import (
    Conflict,
    DatabaseNotFound,
    DocumentRenderer,
    DocumentStore,
    Mailer,
    MailRejected,
    MailUnavailable,
    NotFound,
    ViewQuery,
)
from bookkeeper.services.documents.document_mail import addressee, document_message, pdf_name
from bookkeeper.services.documents.document_templates import template_for
from bookkeeper.services.mail.notices import admin_emails

QUEUE_DB = "kazbill_document_queue"
MAIL_BUDGET_ID = "kazbill_document_mail_budget"
log = logging.getLogger("kazbill.documents")


@dataclass
class DocumentPass:
    rendered: int = 0
    emailed: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    throttled: int = 0  # due, but this minute's share of emails is spent
    details: list[str] = field(default_factory=list)


def job_id(db: str, doc_id: str) -> str:
    return "job-" + hashlib.sha256(f"{db}/{doc_id}".encode()).hexdigest()[:40]


def enqueue_render(store: DocumentStore, db: str, doc_id: str, account_id: str, now: int, *, send: bool = True) -> None:
    """(Re)queue the document for rendering, then for emailing unless `send` is False (a period's
    documents issued again are rendered again, and emailed again only when asked)."""
    store.ensure_database(QUEUE_DB)
    job: dict[str, Any] = {
        "_id": job_id(db, doc_id),
        "pvt_type": "document_job",
        "db": db,
        "doc_id": doc_id,
        "account_id": account_id,
        "send": send,
        "state": "render",
        "attempts": 0,
        "next_attempt_at": now,
        "pvt_created": now,
    }
    try:
        current = store.get(QUEUE_DB, job["_id"])
        job["_rev"] = current["_rev"]
    except NotFound:
        pass
    store.put(QUEUE_DB, job)


def process_due_documents(
    store: DocumentStore,
    renderer: DocumentRenderer,
    mailer: Mailer | None,
    *,
    sender: str,
    now_gregorian: int,
    limit: int = 50,
    mails_per_minute: int = 0,
) -> DocumentPass:
    """One pass over the due jobs. Without a mailer documents are rendered and stay unsent.
    `mails_per_minute` (0: none) caps the documents emailed per minute by every worker together,
    so that a period end does not trip the mail provider's limits."""
    result = DocumentPass()
    try:
        rows = store.query_view(
            QUEUE_DB, "kazbill_document_queue", "due", ViewQuery(end_key=now_gregorian, include_docs=True, limit=limit)
        ).rows
    except DatabaseNotFound:
        return result
    for row in rows:
        if row.doc is None:
            continue
        outcome = _step(store, renderer, mailer, dict(row.doc), sender, now_gregorian, mails_per_minute)
        setattr(result, outcome, getattr(result, outcome) + 1)
        if outcome == "throttled" or (outcome == "retrying" and row.doc.get("state") in ("mail", "mailing")):
            break  # the mail server is away, or this minute's emails are spent: the rest waits
    return result


def _step(
    store: DocumentStore,
    renderer: DocumentRenderer,
    mailer: Mailer | None,
    job: dict[str, Any],
    sender: str,
    now: int,
    mails_per_minute: int,
) -> str:
    mailing = job["state"] in ("mail", "mailing")
    try:
        job = _save(store, {**job, "state": "mailing" if mailing else "rendering", "claimed_at": now})
    except Conflict:
        return "skipped"
    try:
        doc = store.get(job["db"], job["doc_id"])
    except (NotFound, DatabaseNotFound):
        _save(store, {**job, "state": "done", "reason": "the document is gone"})
        return "skipped"
    if not mailing:
        return _render(store, renderer, mailer, job, doc, now)
    return _mail(store, mailer, job, doc, sender, now, mails_per_minute)


def _render(
    store: DocumentStore,
    renderer: DocumentRenderer,
    mailer: Mailer | None,
    job: dict[str, Any],
    doc: dict[str, Any],
    now: int,
) -> str:
    own = template_for(store, doc.get("reseller_id"), (doc.get("carrier") or {}).get("id", ""), doc["document_type"])
    try:
        pdf = renderer.document_pdf(doc, own)
    except ValueError as refused:  # the data or the template is wrong (or past its bounds): again will not help
        _fail(store, job, doc, f"refused: {refused}", now)
        return "failed"
    except Exception as error:  # noqa: BLE001 - retried: a worker out of memory, a font cache race...
        return _retry(store, job, doc, f"rendering failed: {type(error).__name__}: {error}", now)
    try:
        written = store.put_attachment(job["db"], doc["_id"], pdf_name(doc), pdf, "application/pdf", doc["_rev"])
    except Conflict:  # regenerated while it rendered (or, on a cluster, a rival write stood): render what is there now
        return _retry(store, job, doc, "the document changed while it was rendered", now)
    doc = {**store.get(job["db"], doc["_id"]), "_rev": written.rev}
    _document_state(store, job["db"], doc, "rendered", now, None)
    if job.get("send", True) is False:  # issued again, and not asked to be emailed again
        _save(store, {**job, "state": "done", "reason": "issued again: not emailed again unless asked"})
        return "rendered"
    _save(store, {**job, "state": "mail" if mailer is not None else "done", "attempts": 0, "next_attempt_at": now})
    return "rendered"


def _mail(
    store: DocumentStore,
    mailer: Mailer | None,
    job: dict[str, Any],
    doc: dict[str, Any],
    sender: str,
    now: int,
    mails_per_minute: int,
) -> str:
    if mailer is None:
        _save(store, {**job, "state": "mail", "claimed_at": None})
        return "skipped"
    recipients = admin_emails(store, addressee(store, job["account_id"], doc))
    if not recipients:  # the document stands; only no one can be sent it
        _document_state(
            store, job["db"], doc, "no_recipients", now, "the account and its reseller have no admin with an email"
        )
        _save(store, {**job, "state": "done", "reason": "no recipients"})
        return "skipped"
    if not _mail_slot(store, mails_per_minute, now):
        _save(store, {**job, "state": "mail", "claimed_at": None, "next_attempt_at": (now // 60 + 1) * 60})
        return "throttled"
    try:
        mailer.send(document_message(store, job["db"], job["account_id"], doc, sender, recipients, now))
    except MailUnavailable as error:
        return _retry(store, job, doc, f"mail server unavailable: {error}", now)
    except MailRejected as error:
        _fail(store, job, doc, f"mail refused: {error}", now)
        return "failed"
    _document_state(store, job["db"], doc, "emailed", now, None, recipients=[email for email, _ in recipients])
    _save(store, {**job, "state": "done", "emailed_at": now})
    return "emailed"


def _mail_slot(store: DocumentStore, per_minute: int, now: int) -> bool:
    """Take one of this minute's emails, if any is left (one counter for every worker, moved by
    revision-checked writes; a slot taken by a send that then fails is not given back)."""
    if not per_minute:
        return True
    minute = now // 60
    for _ in range(50):
        try:
            budget = store.get(QUEUE_DB, MAIL_BUDGET_ID)
        except NotFound:
            budget = {"_id": MAIL_BUDGET_ID, "pvt_type": "document_mail_budget"}
        sent = budget.get("sent", 0) if budget.get("minute") == minute else 0
        if sent >= per_minute:
            return False
        try:
            store.put(QUEUE_DB, {**budget, "minute": minute, "sent": sent + 1})
            return True
        except Conflict:
            continue  # another worker took a slot meanwhile: count again
    return False


def _retry(store: DocumentStore, job: dict[str, Any], doc: dict[str, Any], reason: str, now: int) -> str:
    attempts = job.get("attempts", 0) + 1
    if gives_up(attempts):
        _fail(store, job, doc, f"{reason} (after {attempts} attempts)", now)
        return "failed"
    back = "mail" if job["state"] == "mailing" else "render"
    _save(
        store,
        {
            **job,
            "state": back,
            "attempts": attempts,
            "next_attempt_at": now + retry_delay_s(attempts),
            "reason": reason,
        },
    )
    log.warning("document %s: %s; retrying", doc["_id"], reason)
    return "retrying"


def _fail(store: DocumentStore, job: dict[str, Any], doc: dict[str, Any], reason: str, now: int) -> None:
    _document_state(store, job["db"], doc, "failed", now, reason)
    _save(store, {**job, "state": "failed", "reason": reason})
    log.error("document %s failed: %s", doc["_id"], reason)


def _document_state(
    store: DocumentStore, db: str, doc: dict[str, Any], state: str, now: int, reason: str | None, **fields: Any
) -> None:
    history = [*doc.get("state_history", []), {"state": state, "at": now, **({"reason": reason} if reason else {})}]
    store.put(
        db, {**doc, **fields, "state": state, "failure": reason, "state_history": history[-20:], "pvt_modified": now}
    )


def _save(store: DocumentStore, job: dict[str, Any]) -> dict[str, Any]:
    written = store.put(QUEUE_DB, job)
    return {**job, "_rev": written.rev}
