"""Cards and top-ups through the account's reseller's Braintree: the vault customer of an account
is the account id; its cards are listed, added (from a nonce the card form made), made default
and deleted only as that customer's; a top-up charges a card and credits the account once.

A top-up is claimed under its idempotency key in the account's database before the card is
charged, so a repeated request (a double click, a client retry, a second worker) returns the
first answer and never charges twice. Each approved sale is indexed by its transaction id, so a
later dispute or settlement decline finds the account it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError, amount_text
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.domain.id_parts import id_part
from bookkeeper.domain.kazoo_names import SYSTEM_DB, account_db
from bookkeeper.ports import (
    CardGateway,
    CardRefused,
    Conflict,
    DocumentStore,
    GatewayUnavailable,
    SaleOutcome,
    SavedCard,
    gregorian_now,
    put_once,
)
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import BillingContext, BillingInputError, get_or_none, load_context
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings
from bookkeeper.services.payments.keyed_ids import KeyedDoc, find_keyed
from bookkeeper.services.payments.postings import PostingRefused, apply_payment

CardGateways = Callable[[GatewaySettings], CardGateway]


@dataclass(frozen=True)
class CardPorts:
    billing: BillingPorts
    card_gateways: CardGateways | None  # None: this node was built without card payments


class CardError(ValueError):
    """A card request that cannot be done; `status` is the HTTP status an API answers with."""

    def __init__(self, status: int, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.status, self.field, self.reason = status, field, reason


@dataclass(frozen=True)
class Braintree:
    gateway: CardGateway
    settings: GatewaySettings
    currency: str
    context: BillingContext


def braintree_of(ports: CardPorts, account_id: str) -> Braintree:
    """The account's reseller's Braintree, or CardError naming why there is none."""
    try:
        context = load_context(ports.billing.store, account_id)
        settings, currency = load_gateway_settings(ports.billing.store, context.reseller_id, "braintree_config")
    except BillingInputError as error:
        raise CardError(409, error.field, error.reason) from None
    except (GatewayFieldError, NotAReseller) as error:
        raise CardError(404, "braintree", f"this account's reseller takes no card payments ({error})") from None
    if ports.card_gateways is None:
        raise CardError(503, "braintree", "card payments are not wired into this process")
    return Braintree(ports.card_gateways(settings), settings, currency, context)


def _guarded(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except CardRefused as error:
        raise CardError(400, "card", str(error)) from None
    except GatewayUnavailable as error:
        raise CardError(503, "braintree", str(error)) from None


def list_cards(ports: CardPorts, account_id: str) -> list[SavedCard]:
    return _cards(braintree_of(ports, account_id), account_id)


def _cards(braintree: Braintree, account_id: str) -> list[SavedCard]:
    try:
        return braintree.gateway.cards(account_id)
    except CardRefused:
        return []  # no vault customer yet: no cards
    except GatewayUnavailable as error:
        raise CardError(503, "braintree", str(error)) from None


def client_token(ports: CardPorts, account_id: str) -> str:
    return _client_token(braintree_of(ports, account_id), account_id)


def _client_token(braintree: Braintree, account_id: str) -> str:
    _guarded(lambda: braintree.gateway.ensure_customer(account_id, braintree.context.account_name))
    return _guarded(lambda: braintree.gateway.client_token(account_id))


def cards_and_client_token(ports: CardPorts, account_id: str) -> tuple[list[SavedCard], str]:
    """What a card form shows: the saved cards, and a client token for adding one."""
    braintree = braintree_of(ports, account_id)
    return _cards(braintree, account_id), _client_token(braintree, account_id)


def add_card(ports: CardPorts, account_id: str, nonce: object, make_default: bool = False) -> SavedCard:
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= 200:
        raise CardError(400, "payment_method_nonce", "the nonce the card form returned is required")
    braintree = braintree_of(ports, account_id)
    _guarded(lambda: braintree.gateway.ensure_customer(account_id, braintree.context.account_name))
    return _guarded(lambda: braintree.gateway.add_card(account_id, nonce, make_default))


def _own_card(ports: CardPorts, account_id: str, token: str) -> Braintree:
    braintree = braintree_of(ports, account_id)
    if token not in {card.token for card in _cards(braintree, account_id)}:
        raise CardError(404, "card", f"{token!r} is not a card of this account")
    return braintree


def delete_card(ports: CardPorts, account_id: str, token: str) -> None:
    braintree = _own_card(ports, account_id, token)
    _guarded(lambda: braintree.gateway.delete_card(token))


def make_default(ports: CardPorts, account_id: str, token: str) -> SavedCard:
    braintree = _own_card(ports, account_id, token)
    return _guarded(lambda: braintree.gateway.make_default(token))


def sale_index_id(transaction_id: str) -> str:
    # Braintree's transaction ids are letters and digits, which ids kept as they are before id_part too.
    return f"braintree_sale-{id_part(transaction_id)}"


def claim_of(store: DocumentStore, db: str, kind: str, key: str) -> KeyedDoc:
    """The `kazbill_<kind>` claim of this key (`keyed_ids`): where it is, and it if it exists."""
    return find_keyed(store, db, f"kazbill_{kind}-", key, "key")


def top_up(
    ports: CardPorts,
    account_id: str,
    amount: int,
    key: str,
    *,
    by: str | None,
    token: str | None = None,
    reason: str = "braintree",
) -> tuple[dict[str, Any], bool]:
    """Charge a card of the account (the default one unless `token`) and credit the account once
    per key. Returns (the top-up's record, whether this call made it): state charged (with the
    transaction and posting) or declined (with the gateway's reason)."""
    if not isinstance(key, str) or not key.strip() or len(key) > 100:
        raise CardError(400, "idempotency_key", "a key of at most 100 characters makes repeats safe")
    braintree = braintree_of(ports, account_id)
    try:
        text = amount_text(amount, braintree.currency)
    except GatewayFieldError as error:
        raise CardError(400, "amount", error.reason) from None
    refusal = braintree.settings.within_limits(amount)
    if refusal:
        raise CardError(400, "amount", refusal)
    store, db = ports.billing.store, account_db(account_id)
    now = gregorian_now(ports.billing.clock)
    keyed = claim_of(store, db, "topup", key)
    claim: dict[str, Any] = {
        "_id": keyed.doc_id,
        "pvt_type": "kazbill_topup",
        "key": key,
        "amount": amount,
        "currency": braintree.currency,
        "state": "charging",
        "by": by,
        "pvt_created": now,
    }
    earlier = keyed.doc
    if earlier is not None:
        return _repeated(ports, account_id, earlier, db)
    card = _chosen_card(braintree, account_id, token)
    try:
        claim["_rev"] = store.put(db, claim).rev
    except Conflict:  # the same key, charged by a concurrent request: its answer is this one's
        return _repeated(ports, account_id, store.get(db, claim["_id"]), db)
    outcome = _guarded_sale(ports, braintree, account_id, card, text, key, claim, db)
    if not outcome.success:
        claim.update(state="declined", reason=outcome.message, transaction_id=outcome.transaction_id, card=card)
        claim["_rev"] = store.put(db, claim).rev
        return claim, True
    # The card is charged: record that first, so that whatever fails next, a repeat of the key
    # finishes the posting (idempotent) instead of charging again or losing the money.
    claim.update(
        state="charged",
        transaction_id=outcome.transaction_id,
        card=card,
        reason=reason,
        reseller_id=braintree.context.reseller_id,
    )
    claim["_rev"] = store.put(db, claim).rev
    return _post_topup(ports, account_id, claim, db), True


def _post_topup(ports: CardPorts, account_id: str, claim: dict[str, Any], db: str) -> dict[str, Any]:
    """Index the sale (for disputes and refunds) and credit the account, both idempotent."""
    store, txn = ports.billing.store, claim["transaction_id"]
    put_once(
        store,
        SYSTEM_DB,
        {
            "_id": sale_index_id(txn),
            "pvt_type": "braintree_sale",
            "account_id": account_id,
            "reseller_id": claim["reseller_id"],
            "amount": claim["amount"],
            "currency": claim["currency"],
            "pvt_created": claim["pvt_created"],
        },
    )
    try:
        events = apply_payment(
            ports.billing,
            account_id,
            amount=claim["amount"],
            reason=claim["reason"],
            external_id=txn,
            description=f"Card top-up {txn}",
            by=claim.get("by"),
        )
    except PostingRefused:
        # Charged, and the account closed (or its documents broke) since it was checked: the
        # claim keeps saying so without an entry, and the failure recorded waits for a person.
        events = [BillingEvent("posting_refused", account_id, {})]
    claim.update(entry_id=events[0].details.get("entry_id"), events=[event.name for event in events])
    claim["_rev"] = store.put(db, claim).rev
    return claim


def _repeated(ports: CardPorts, account_id: str, earlier: dict[str, Any], db: str) -> tuple[dict[str, Any], bool]:
    if earlier["state"] == "charging":
        raise CardError(
            409, "idempotency_key", "a top-up with this key is being charged, or its outcome awaits an operator's check"
        )
    if earlier["state"] == "charged" and not earlier.get("entry_id"):
        return _post_topup(ports, account_id, earlier, db), False  # charged, but the credit was cut short
    return earlier, False


def _chosen_card(braintree: Braintree, account_id: str, token: str | None) -> str:
    cards = _cards(braintree, account_id)
    if token is not None:
        if token not in {card.token for card in cards}:
            raise CardError(404, "card", f"{token!r} is not a card of this account")
        return token
    chosen = next((card.token for card in cards if card.default), cards[0].token if cards else None)
    if chosen is None:
        raise CardError(400, "card", "the account has no saved card")
    return chosen


def _guarded_sale(
    ports: CardPorts, braintree: Braintree, account_id: str, card: str, text: str, key: str, claim: dict, db: str
) -> SaleOutcome:
    try:
        return braintree.gateway.sale(account_id, card, text, order_id=f"kazbill-{key}"[:255])
    except CardRefused as error:
        _release(ports, claim, db)
        raise CardError(400, "card", str(error)) from None
    except GatewayUnavailable as error:
        # Whether the card was charged is unknown: the claim stays "charging" for the operator
        # (Braintree's order id is the key), and a repeat of this key is refused, never re-charged.
        claim.update(reason=str(error))
        ports.billing.store.put(db, claim)
        raise CardError(503, "braintree", f"{error}; top-up {key!r} awaits an operator's check") from None


def _release(ports: CardPorts, claim: dict, db: str) -> None:
    """Nothing was charged: free the key so the customer can try again."""
    ports.billing.store.delete(db, claim["_id"], claim["_rev"])


def sale_account(ports: BillingPorts, transaction_id: str) -> dict[str, Any] | None:
    return get_or_none(ports.store, SYSTEM_DB, sale_index_id(transaction_id))
