"""Cards and top-ups through the reseller's Braintree (Kazoo's `braintree` endpoint names):

GET    .../braintree/client_token           a client token for the card form (Drop-in / Hosted Fields)
GET    .../braintree/cards                  the account's saved cards
PUT    .../braintree/cards                  save a card from the form's nonce {payment_method_nonce, make_default}
POST   .../braintree/cards/{token}          {"default": true}: make it the default card
DELETE .../braintree/cards/{token}          forget it
PUT    .../braintree/credits                top up {amount[, card]} with an Idempotency-Key:
                                            201 charged, 402 declined; a repeat answers the first result
PUT    .../braintree/transactions/{id}/refund  a reseller refunds a top-up {amount?} (Idempotency-Key)
GET/POST .../auto_topup                     {enabled, threshold, amount}: charge the default card below the threshold
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import falcon

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.money import MoneyError, exact_units, to_major
from bookkeeper.ports import SavedCard
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.payments.auto_topup_settings import configure_auto_topup
from bookkeeper.services.payments.card_payments import (
    CardError,
    CardPorts,
    add_card,
    client_token,
    delete_card,
    list_cards,
    make_default,
    top_up,
)
from bookkeeper.services.payments.card_refunds import refund_topup
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid


def card_ports(deps: ApiDeps) -> CardPorts:
    return CardPorts(BillingPorts(deps.store, deps.clock, deps.design_docs), deps.card_gateways)


def _api_error(error: CardError) -> ApiError:
    return ApiError(error.status, None, {error.field: {"braintree": {"message": error.reason}}})


def _units(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise invalid(field, "type", "must be a JSON number in currency units, e.g. 25.00")
    try:
        return exact_units(value, field)
    except MoneyError as error:
        raise invalid(field, "type", error.reason) from None


def _shown(card: SavedCard) -> dict[str, Any]:
    return {
        "id": card.token,
        "card_type": card.card_type,
        "last_four": card.last_4,
        "expiration_date": card.expiration,
        "default": card.default,
    }


class ClientToken:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id, write=True)
        try:
            answer(req, resp, {"client_token": client_token(card_ports(self.deps), account_id)})
        except CardError as error:
            raise _api_error(error) from None


class Cards:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        try:
            answer(req, resp, [_shown(card) for card in list_cards(card_ports(self.deps), account_id)])
        except CardError as error:
            raise _api_error(error) from None

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        account_for(req, self.deps, account_id, write=True)
        make = data.get("make_default", False)
        if not isinstance(make, bool):
            raise invalid("make_default", "type", "must be true or false")
        try:
            card = add_card(card_ports(self.deps), account_id, data.get("payment_method_nonce"), make)
        except CardError as error:
            raise _api_error(error) from None
        answer(req, resp, _shown(card), status=201)


class Card:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, token: str) -> None:
        data = read_data(req)
        account_for(req, self.deps, account_id, write=True)
        if data.get("default") is not True:
            raise invalid("default", "enum", 'the only change a saved card takes is {"default": true}')
        try:
            answer(req, resp, _shown(make_default(card_ports(self.deps), account_id, token)))
        except CardError as error:
            raise _api_error(error) from None

    def on_delete(self, req: falcon.Request, resp: falcon.Response, account_id: str, token: str) -> None:
        account_for(req, self.deps, account_id, write=True)
        try:
            delete_card(card_ports(self.deps), account_id, token)
        except CardError as error:
            raise _api_error(error) from None
        answer(req, resp, {"id": token, "deleted": True})


class Credits:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        account_for(req, self.deps, account_id, write=True)
        key = req.get_header("Idempotency-Key")
        if not key:
            raise invalid("Idempotency-Key", "required", "a top-up charges a card: send a key that makes repeats safe")
        units = _units(data.get("amount"), "amount")
        card = data.get("card")
        if card is not None and not isinstance(card, str):
            raise invalid("card", "type", "must be the id of a saved card")
        caller = req.context.caller
        try:
            record, first_time = top_up(
                card_ports(self.deps),
                account_id,
                units,
                key,
                by=f"{caller.account_id}/{caller.user_id or 'api_key'}",
                token=card,
            )
        except CardError as error:
            raise _api_error(error) from None
        if record["state"] == "declined":
            raise ApiError(402, "the card was declined", {"card": {"declined": {"message": record.get("reason")}}})
        answer(
            req,
            resp,
            {
                "state": record["state"],
                "amount": to_major(record["amount"]),
                "currency": record["currency"],
                "transaction_id": record.get("transaction_id"),
                "card": record.get("card"),
                "entry_id": record.get("entry_id"),
            },
            status=201 if first_time else 200,
        )


class Refund:
    """PUT .../braintree/transactions/{transaction_id}/refund {amount?} with an Idempotency-Key: a
    reseller above the account refunds a card top-up, all of it or a part; 201, a repeat 200."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str, transaction_id: str) -> None:
        data = read_data(req)
        account_for(req, self.deps, account_id, write=True, from_above=True)
        key = req.get_header("Idempotency-Key")
        if not key:
            raise invalid("Idempotency-Key", "required", "a refund moves money: send a key that makes repeats safe")
        amount = _units(data["amount"], "amount") if data.get("amount") is not None else None
        caller = req.context.caller
        try:
            record, first_time = refund_topup(
                card_ports(self.deps),
                account_id,
                transaction_id,
                amount,
                key,
                by=f"{caller.account_id}/{caller.user_id or 'api_key'}",
            )
        except CardError as error:
            raise _api_error(error) from None
        answer(
            req,
            resp,
            {
                "state": record["state"],
                "amount": to_major(record["amount"]),
                "sale": record["sale"],
                "refund_id": record.get("refund_id"),
                "entry_id": record.get("entry_id"),
            },
            status=201 if first_time else 200,
        )


class AutoTopUpSettings:
    """GET/POST .../auto_topup {enabled, threshold, amount}: charge the default card `amount` when
    the balance falls below `threshold` (currency units), at most once in 24 hours. Turning it on
    clears the failures that switched it off."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        answer(req, resp, _auto_shown(get_or_none(self.deps.store, account_db(account_id), AUTO_TOPUP_DOC_ID)))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        account_for(req, self.deps, account_id, write=True)
        unknown = set(data) - {"enabled", "threshold", "amount"}
        if unknown:
            raise invalid(sorted(unknown)[0], "unknown", "expected enabled, threshold and amount")
        if "enabled" in data and not isinstance(data["enabled"], bool):
            raise invalid("enabled", "type", "must be true or false")
        values = {key: _units(data[key], key) if key in data else None for key in ("threshold", "amount")}
        reseller_id = billing_context(self.deps, account_id).reseller_id
        try:
            saved = configure_auto_topup(
                self.deps.store, account_id, reseller_id, enabled=data.get("enabled"), **values
            )
        except GatewayFieldError as error:
            if error.field == "braintree":
                raise ApiError(
                    404, "bad identifier", {"braintree": {"configured": {"message": error.reason}}}
                ) from None
            raise invalid(error.field, "invalid", error.reason) from None
        answer(req, resp, _auto_shown(saved))


def _auto_shown(doc: dict[str, Any] | None) -> dict[str, Any]:
    doc = doc or {}
    return {
        "enabled": bool(doc.get("enabled")),
        "threshold": to_major(doc["threshold"]) if isinstance(doc.get("threshold"), int) else None,
        "amount": to_major(doc["amount"]) if isinstance(doc.get("amount"), int) else None,
        "failures": doc.get("failures", 0),
        "last_attempt_at": doc.get("last_attempt_at"),
        "last_outcome": doc.get("last_outcome"),
        "switched_off_because": doc.get("disabled_reason"),
    }
