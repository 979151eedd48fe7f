"""A reseller refunds a card top-up (all of it or a part) through Braintree: the refund is its
own Braintree transaction and becomes a debit under its id, once. The refund is claimed under its
idempotency key before Braintree is asked, as a top-up is, and never refunds more than was paid
(Braintree refuses that too; the sale's index keeps what was refunded so far)."""

from __future__ import annotations

from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError, amount_text
from bookkeeper.domain.kazoo_names import SYSTEM_DB, account_db
from bookkeeper.ports import CardRefused, Conflict, GatewayUnavailable, gregorian_now
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.payments.card_payments import (
    CardError,
    CardPorts,
    braintree_of,
    claim_of,
    sale_account,
    sale_index_id,
)
from bookkeeper.services.payments.postings import PostingRefused, gateway_debit


def _refund_amount(sale: dict[str, Any], amount: int | None, currency: str) -> tuple[int, str]:
    """The amount to refund (None: what is left of the sale) and its text for Braintree, or the
    CardError that names what is wrong with it."""
    left = sale["amount"] - sale.get("refunded", 0)
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise CardError(400, "amount", f"at most {amount_text(max(left, 0), currency)} is left to refund")
    try:
        return amount, amount_text(amount, currency)
    except GatewayFieldError as error:
        raise CardError(400, "amount", error.reason) from None


def refund_topup(
    ports: CardPorts, account_id: str, transaction_id: str, amount: int | None, key: str, *, by: str
) -> tuple[dict[str, Any], bool]:
    """(the refund's record, whether this call made it). `amount` None: what is left of the sale."""
    if not isinstance(key, str) or not key.strip() or len(key) > 100:
        raise CardError(400, "idempotency_key", "a key of at most 100 characters makes repeats safe")
    sale = sale_account(ports.billing, transaction_id)
    if sale is None or sale.get("account_id") != account_id:
        raise CardError(404, "transaction_id", f"{transaction_id!r} is not a card top-up of this account")
    braintree = braintree_of(ports, account_id)
    amount, text = _refund_amount(sale, amount, braintree.currency)
    store, db = ports.billing.store, account_db(account_id)
    now = gregorian_now(ports.billing.clock)
    keyed = claim_of(store, db, "refund", key)
    claim: dict[str, Any] = {
        "_id": keyed.doc_id,
        "pvt_type": "kazbill_refund",
        "key": key,
        "amount": amount,
        "sale": transaction_id,
        "state": "refunding",
        "by": by,
        "pvt_created": now,
    }
    earlier = keyed.doc
    try:
        if earlier is None:
            claim["_rev"] = store.put(db, claim).rev
    except Conflict:
        earlier = store.get(db, claim["_id"])
    if earlier is not None:
        if earlier["state"] == "refunding":
            raise CardError(409, "idempotency_key", "a refund with this key is under way or awaits an operator")
        return earlier, False
    try:
        outcome = braintree.gateway.refund(transaction_id, text, order_id=f"kazbill-refund-{key}"[:255])
    except CardRefused as error:
        store.delete(db, claim["_id"], claim["_rev"])  # nothing refunded: the key is free again
        raise CardError(400, "transaction_id", str(error)) from None
    except GatewayUnavailable as error:
        raise CardError(503, "braintree", f"{error}; refund {key!r} awaits an operator's check") from None
    if not outcome.success:
        store.delete(db, claim["_id"], claim["_rev"])
        raise CardError(400, "amount", outcome.message)
    refund_id = outcome.transaction_id
    assert refund_id is not None  # a refund Braintree accepted is a transaction
    update_doc(store, SYSTEM_DB, sale_index_id(transaction_id), {"refunded": sale.get("refunded", 0) + amount})
    # Indexed like a sale, so that Braintree's refund_failed webhook finds the account to credit back.
    store.put(
        SYSTEM_DB,
        {
            "_id": sale_index_id(refund_id),
            "pvt_type": "braintree_sale",
            "kind": "refund",
            "refunds": transaction_id,
            "account_id": account_id,
            "reseller_id": braintree.context.reseller_id,
            "amount": amount,
            "currency": braintree.currency,
            "pvt_created": now,
        },
    )
    try:
        events = gateway_debit(
            ports.billing,
            account_id,
            amount=amount,
            reason="braintree_refund",
            external_id=refund_id,
            description=f"Refund of card top-up {transaction_id}",
        )
        entry_id = events[0].details.get("entry_id")
    except PostingRefused:  # refunded by Braintree all the same: recorded without an entry, for a person
        entry_id = None
    claim.update(state="refunded", refund_id=refund_id, entry_id=entry_id)
    claim["_rev"] = store.put(db, claim).rev
    return claim, True
