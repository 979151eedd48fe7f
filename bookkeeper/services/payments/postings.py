"""Money in and manual corrections: a payment, a manual credit or debit by the reseller, and the
deletion of a manual entry (the only entries that may be deleted; the deletion is itself an
entry, so the ledger stays immutable and its history complete).

Exactly once, across months: each posting is first registered in the account's database under
an id made from its reason and its external id (the gateway's transaction id, the wire
transfer's reference, the API's idempotency key). The registration names the month the entry
went to, so a replay of a notification months later finds it and posts nothing.

The external id is kept exactly as given, encoded reversibly into the ids (`id_part`), so
"PO 17" and "PO/17" are two postings; registrations written when ids were slugs are still found
(`bookkeeper.services.payments.keyed_ids`), so a replay of an old payment is still a replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.charges import CREDIT, DEBIT, REASON_CODES
from bookkeeper.domain.kazoo_ledger import kazoo_ledger
from bookkeeper.domain.kazoo_months import event_part, prefix, utc_month
from bookkeeper.domain.kazoo_names import account_db, gregorian_of
from bookkeeper.domain.ledger import PAYMENTS_SOURCE
from bookkeeper.domain.periods import local_day
from bookkeeper.ports import Conflict, DocumentStore, NotFound
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.context import load_or_refuse
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.hooks_out.outbox import queue_webhooks
from bookkeeper.services.payments.keyed_ids import find_keyed

GATEWAY_CREDITS = (
    "paypal",
    "yandex_money",
    "braintree",
    "topup",
    "auto_addition",
    "paypal_reversal_cancelled",
    "braintree_dispute_won",
    "braintree_refund_failed",
)
# Money a gateway took back: refunds, reversals, chargebacks, each keyed by the gateway's own id.
GATEWAY_DEBITS = (
    "paypal_refund",
    "paypal_reversal",
    "braintree_refund",
    "braintree_dispute",
    "braintree_settlement_declined",
)
MANUAL_CREDITS = ("wire_transfer", "manual_addition", "admin_discretion")
MANUAL_DEBITS = ("balance_correction",)
# Money in, and a gateway taking it back, are Kazoo's "payments"; a reseller's correction of the
# balance has no Kazoo source that fits, and keeps its own name.
PAYMENT_SOURCED = GATEWAY_CREDITS + GATEWAY_DEBITS + MANUAL_CREDITS


class PaymentError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class EntryNotFound(PaymentError):
    """The entry to undo is none of this account's postings (an edge answers it as not found)."""


class PostingRefused(PaymentError):
    """The account cannot take a posting now: unknown, closed, or its billing documents cannot
    be read (`field` names the document's field). Nothing was posted; a failure was recorded for
    a person, since money meant for the account is waiting."""


def registration_prefix(reason: str) -> str:
    return f"kazbill_posting-{reason}-"


def find_registration(store: DocumentStore, account_id: str, reason: str, external_id: str) -> dict[str, Any] | None:
    """This posting's registration, under whichever id it was written (`keyed_ids`)."""
    return find_keyed(store, account_db(account_id), registration_prefix(reason), external_id, "external_id").doc


def _check(amount: object, reason: str, external_id: object, allowed: tuple[str, ...]) -> None:
    if type(amount) is not int or amount <= 0:
        raise PaymentError("amount", "must be a positive whole number of units")
    if reason not in allowed:
        raise PaymentError("reason", f"must be one of {', '.join(allowed)}")
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200 or "\x00" in external_id:
        raise PaymentError("external_id", "must be a non-empty string of at most 200 characters, without NUL")


def apply_payment(
    ports: BillingPorts,
    account_id: str,
    *,
    amount: int,
    reason: str,
    external_id: str,
    description: str = "",
    by: str | None = None,
    ledger_fields: Mapping[str, Any] | None = None,
) -> list[BillingEvent]:
    """A credit (gateway payment, top-up, wire transfer, manual credit), then a pass over the
    account: a pending period may open now, a block may lift."""
    _check(amount, reason, external_id, GATEWAY_CREDITS + MANUAL_CREDITS)
    return _post(ports, account_id, CREDIT, amount, reason, external_id, description, by, ledger_fields=ledger_fields)


def manual_debit(
    ports: BillingPorts,
    account_id: str,
    *,
    amount: int,
    external_id: str,
    description: str = "",
    by: str | None = None,
    ledger_fields: Mapping[str, Any] | None = None,
) -> list[BillingEvent]:
    _check(amount, "balance_correction", external_id, MANUAL_DEBITS)
    return _post(
        ports,
        account_id,
        DEBIT,
        amount,
        "balance_correction",
        external_id,
        description,
        by,
        ledger_fields=ledger_fields,
    )


def _post(
    ports: BillingPorts,
    account_id: str,
    ledger_type: str,
    amount: int,
    reason: str,
    external_id: str,
    description: str,
    by: str | None,
    deletes: str | None = None,
    ledger_fields: Mapping[str, Any] | None = None,
) -> list[BillingEvent]:
    now = ports.clock.now()
    now_gregorian = gregorian_of(now)
    context = load_or_refuse(
        ports.store,
        account_id,
        source="payments",
        reason_code="refused_posting",
        refusal="posting_refused",
        now_gregorian=now_gregorian,
        payload={"reason": reason, "external_id": external_id, "amount": amount},
    )
    if isinstance(context, BillingEvent):
        raise PostingRefused(str(context.details["field"]), str(context.details["reason"]))
    today = local_day(now, context.reseller.timezone)
    month = utc_month(now_gregorian)  # Kazoo's month, where its balance sees the entry at once
    store = ports.store
    keyed = find_keyed(store, account_db(account_id), registration_prefix(reason), external_id, "external_id")
    registration = keyed.doc or _register(
        store,
        account_id,
        {
            "_id": keyed.doc_id,
            "pvt_type": "kazbill_posting",
            "entry_id": f"{prefix(month)}-kazbill-{reason}-{keyed.part(registration_prefix(reason))}",
            "month": list(month),
            "reason": reason,
            "ledger_type": ledger_type,
            "amount": amount,
            "external_id": external_id,
            "by": by,
            "deletes": deletes,
            "pvt_created": now_gregorian,
        },
    )
    entry = kazoo_ledger(
        registration["entry_id"],
        registration["ledger_type"],
        registration["amount"],
        description=description or f"{reason} {external_id}",
        source={"service": PAYMENTS_SOURCE if reason in PAYMENT_SOURCED else reason, "id": external_id},
        usage={"type": reason, "quantity": 1, "unit": "posting"},
        # Kazoo's ledger summary (summary_by_account) lists only documents with a period.
        period={"start": registration["pvt_created"], "end": registration["pvt_created"]},
        account_id=account_id,
        account_name=context.account_name,
        metadata={
            "kazbill": {
                "reason": reason,
                "code": REASON_CODES[reason],
                "external_id": external_id,
                "by": by,
                "deletes": deletes,
                "currency": context.reseller.currency,
                "day": today.isoformat(),
            }
        },
        now_gregorian=now_gregorian,
    )
    if ledger_fields:  # a crossbar client's own source, usage, period and metadata, as cb_ledgers:put
        # keeps them; Kazbill's own record of the posting stays under metadata.kazbill.
        entry.update({key: ledger_fields[key] for key in ("source", "usage", "period") if key in ledger_fields})
        entry["metadata"] = {**(ledger_fields.get("metadata") or {}), "kazbill": entry["metadata"]["kazbill"]}
    # A registration without its entry is a pass cut short: finish it, in the month it names.
    written = LedgerBook(store, ports.design_docs).write(
        account_id, [entry], tuple(registration["month"]), now_gregorian
    )
    # Whoever writes the entry reports the posting: with concurrent deliveries of one payment,
    # exactly one call does (the others find the entry's id taken).
    if not written:
        return [BillingEvent("posting_duplicate", account_id, {"entry_id": registration["entry_id"]})]
    posted = BillingEvent(
        "posted",
        account_id,
        {
            "entry_id": written[0],
            "reason": reason,
            "ledger_type": registration["ledger_type"],
            "amount": registration["amount"],
            "external_id": external_id,
        },
    )
    queue_webhooks(store, [posted], now_gregorian)  # payment.received, for the resellers above that subscribed
    return [posted, *reconcile_account(ports, account_id)]


def _register(store: DocumentStore, account_id: str, registration: dict[str, Any]) -> dict[str, Any]:
    try:
        store.put(account_db(account_id), registration)
        return registration
    except Conflict:  # posted before (or being posted): the first registration decides month and amount
        return store.get(account_db(account_id), registration["_id"])


def credit_note_refund(
    ports: BillingPorts, account_id: str, *, amount: int, credit_note_id: str, description: str, by: str | None
) -> list[BillingEvent]:
    """What a credit note takes back of an invoice, back to the balance: once per credit note
    (keyed by its document id), then a pass, since a block may lift."""
    _check(amount, "credit_note", credit_note_id, ("credit_note",))
    return _post(ports, account_id, CREDIT, amount, "credit_note", credit_note_id, description, by)


def gateway_debit(
    ports: BillingPorts, account_id: str, *, amount: int, reason: str, external_id: str, description: str = ""
) -> list[BillingEvent]:
    """Money a gateway took back (a refund, a reversal, a lost dispute): a debit, once, and a pass
    over the account, since its standing may fall."""
    _check(amount, reason, external_id, GATEWAY_DEBITS)
    return _post(ports, account_id, DEBIT, amount, reason, external_id, description, None)


def delete_manual_entry(ports: BillingPorts, account_id: str, entry_id: str, *, by: str) -> list[BillingEvent]:
    """Undo a manual credit or debit with an opposite entry named after it; anything else is
    refused, as is a second deletion."""
    registration = _registration_of(ports, account_id, entry_id)
    if registration is None:
        raise EntryNotFound("entry_id", f"{entry_id!r} is not a manual entry of this account")
    if registration["reason"] not in MANUAL_CREDITS + MANUAL_DEBITS or registration.get("deletes"):
        raise PaymentError(
            "entry_id", f"{entry_id!r} is a {registration['reason']} entry; only manual entries may be deleted"
        )
    opposite = DEBIT if registration["ledger_type"] == CREDIT else CREDIT
    return _post(
        ports,
        account_id,
        opposite,
        registration["amount"],
        registration["reason"],
        f"deletion-of-{entry_id}",
        f"Deletion of {entry_id} by {by}",
        by,
        deletes=entry_id,
    )


def _registration_of(ports: BillingPorts, account_id: str, entry_id: str) -> dict[str, Any] | None:
    # The entry id is "<YYYYMM>-kazbill-<reason>-<external id>"; its registration follows from it.
    _, found, rest = entry_id.partition("-kazbill-")
    if not found:
        return None
    try:
        registration = ports.store.get(account_db(account_id), f"kazbill_posting-{rest}")
    except NotFound:
        return None
    # A registration whose entry was finished in a later month names the same event.
    return registration if event_part(str(registration.get("entry_id"))) == event_part(entry_id) else None
