"""What a document's email says and whom it goes to: the subject and text in the document's
language, the sender the reseller set, the PDF attached; the addressees are the account's admins,
or its reseller's when the reseller forwards documents itself. Sent by the document queue
(document_queue.py)."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from bookkeeper.domain.documents.dates import shown_day
from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import BillingContext, BillingInputError, load_context
from bookkeeper.services.mail.mail_from import sender_for

SUBJECTS = {
    "en": ("{title} {number} for {start} – {end}", "Please find attached {title} {number} for {start} – {end}."),
    "ru": ("{title} № {number} за {start} – {end}", "Во вложении {title} № {number} за период {start} – {end}."),
    "de": (
        "{title} Nr. {number}, Zeitraum {start} – {end}",
        "Im Anhang finden Sie: {title} Nr. {number} für den Zeitraum {start} – {end}.",
    ),
}
TITLES = {
    "en": {
        "invoice": "Invoice",
        "act": "Certificate of services",
        "proforma": "Pro-forma invoice",
        "calls_report": "Calls report",
        "aggregated_invoice": "Aggregated invoice",
        "transaction_invoice": "Invoice for a payment",
        "credit_note": "Credit note",
    },
    "ru": {
        "invoice": "Счёт",
        "act": "Акт",
        "proforma": "Счёт на оплату",
        "calls_report": "Детализация звонков",
        "aggregated_invoice": "Сводный счёт",
        "transaction_invoice": "Счёт к платежу",
        "credit_note": "Корректировочный счёт",
    },
    "de": {
        "invoice": "Rechnung",
        "act": "Leistungsnachweis",
        "proforma": "Proforma-Rechnung",
        "calls_report": "Einzelverbindungsnachweis",
        "aggregated_invoice": "Sammelrechnung",
        "transaction_invoice": "Rechnung zu einer Zahlung",
        "credit_note": "Rechnungskorrektur",
    },
}


def addressee(store: DocumentStore, account_id: str, doc: dict[str, Any]) -> str:
    """Whose admins get the document: the account's, or its reseller's when the reseller says so
    (onbill `documents_to: reseller`, for resellers that forward documents themselves)."""
    try:
        context = load_context(store, account_id)
    except BillingInputError:
        return account_id
    return context.reseller_id if context.reseller.documents_to == "reseller" else account_id


def pdf_name(doc: dict[str, Any]) -> str:
    safe = "".join(char if char.isalnum() or char in "-_" else "_" for char in str(doc.get("number", "")))
    return f"{doc['document_type']}-{safe}.pdf"


def document_message(
    store: DocumentStore,
    db: str,
    account_id: str,
    doc: dict[str, Any],
    sender: str,
    recipients: list[tuple[str, str]],
    now: int,
) -> EmailMessage:
    language: str = doc["language"] if doc.get("language") in SUBJECTS else "en"
    subject, body = SUBJECTS[language]
    values = {
        "title": TITLES[language].get(doc["document_type"], doc["document_type"]),
        "number": doc["number"],
        "start": shown_day(date.fromisoformat(doc["period"]["start"]), language),
        "end": shown_day(date.fromisoformat(doc["period"]["end"]), language),
    }
    message = EmailMessage()
    try:
        context: BillingContext | None = load_context(store, account_id)
    except Exception:  # noqa: BLE001 - settings broken since issuing: the document still goes
        context = None
    message["From"] = sender_for(store, context, sender)
    message["To"] = ", ".join(formataddr((person, email)) for email, person in recipients)
    if doc["document_type"] in ("proforma", "transaction_invoice"):  # not for a period: its number says it all
        subject = {"ru": "{title} № {number}", "de": "{title} Nr. {number}"}.get(language, "{title} {number}")
    message["Subject"] = subject.format(**values)
    message["Date"] = formatdate(from_gregorian_seconds(now), usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "kazbill")
    message["X-Kazbill-Document"] = doc["_id"]  # the document's id, never the database it is kept in
    message.set_content(body.format(**values))
    name = pdf_name(doc)
    message.add_attachment(
        store.get_attachment(db, doc["_id"], name).data, maintype="application", subtype="pdf", filename=name
    )
    return message
