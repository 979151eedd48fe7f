"""A reseller's Braintree account through the braintree SDK: the vault (one customer per
account, its cards), sales, client tokens for the card form, and webhook verification.

The environment is the reseller's (sandbox or production) unless the operator points every
reseller at another gateway address (`KAZBILL_BRAINTREE_URL`, used by the tests' local gateway).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.ports import (
    CardGateway,
    CardNotice,
    CardRefused,
    GatewayUnavailable,
    InvalidNotification,
    SaleOutcome,
    SavedCard,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK warns about its own enums at import
    import braintree
    from braintree.exceptions import (
        AuthenticationError,
        AuthorizationError,
        InvalidSignatureError,
        NotFoundError,
    )

TIMEOUT_S = 30


def _environment(settings: GatewaySettings, override_url: str | None) -> Any:
    if override_url:
        parts = urlsplit(override_url)
        port = str(parts.port or (443 if parts.scheme == "https" else 80))
        return braintree.Environment(
            "kazbill-override", parts.hostname, port, override_url, parts.scheme == "https", None
        )
    return (
        braintree.Environment.Production
        if settings.get("environment") == "production"
        else braintree.Environment.Sandbox
    )


def _card(raw: Any) -> SavedCard:
    return SavedCard(
        token=raw.token,
        card_type=getattr(raw, "card_type", "") or "",
        last_4=getattr(raw, "last_4", "") or "",
        expiration=f"{getattr(raw, 'expiration_month', '') or ''}/{getattr(raw, 'expiration_year', '') or ''}",
        default=bool(getattr(raw, "default", False)),
    )


def _refusal(result: Any) -> CardRefused:
    details = "; ".join(f"{error.attribute}: {error.message}" for error in result.errors.deep_errors)
    return CardRefused(details or result.message)


class BraintreeCards:
    def __init__(self, settings: GatewaySettings, override_url: str | None = None):
        self.settings = settings
        self.gateway = braintree.BraintreeGateway(
            braintree.Configuration(
                environment=_environment(settings, override_url),
                merchant_id=settings.get("merchant_id"),
                public_key=settings.get("public_key"),
                private_key=settings.get("private_key"),
                timeout=TIMEOUT_S,
            )
        )

    def _call(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except NotFoundError:
            raise CardRefused("not found in this reseller's Braintree vault") from None
        except (AuthenticationError, AuthorizationError) as error:
            raise CardRefused(f"Braintree refused this reseller's keys ({type(error).__name__})") from None
        except braintree.exceptions.braintree_error.BraintreeError as error:  # network, 5xx, timeouts
            raise GatewayUnavailable(f"Braintree: {type(error).__name__} {error}") from None

    def client_token(self, customer_id: str) -> str:
        return self._call(lambda: self.gateway.client_token.generate({"customer_id": customer_id}))

    def ensure_customer(self, customer_id: str, name: str) -> None:
        try:
            self._call(lambda: self.gateway.customer.find(customer_id))
            return
        except CardRefused:
            pass
        result = self._call(lambda: self.gateway.customer.create({"id": customer_id, "company": name[:255]}))
        if not result.is_success:
            raise _refusal(result)

    def cards(self, customer_id: str) -> list[SavedCard]:
        customer = self._call(lambda: self.gateway.customer.find(customer_id))
        return [_card(card) for card in customer.credit_cards]

    def add_card(self, customer_id: str, nonce: str, make_default: bool) -> SavedCard:
        result = self._call(
            lambda: self.gateway.payment_method.create(
                {
                    "customer_id": customer_id,
                    "payment_method_nonce": nonce,
                    "options": {"make_default": make_default, "verify_card": True},
                }
            )
        )
        if not result.is_success:
            raise _refusal(result)
        return _card(result.payment_method)

    def delete_card(self, token: str) -> None:
        result = self._call(lambda: self.gateway.payment_method.delete(token))
        if not result.is_success:
            raise _refusal(result)

    def make_default(self, token: str) -> SavedCard:
        result = self._call(lambda: self.gateway.payment_method.update(token, {"options": {"make_default": True}}))
        if not result.is_success:
            raise _refusal(result)
        return _card(result.payment_method)

    def sale(self, customer_id: str, token: str, amount: str, order_id: str) -> SaleOutcome:
        params: dict[str, Any] = {
            "amount": amount,
            "customer_id": customer_id,
            "payment_method_token": token,
            "order_id": order_id,
            "options": {"submit_for_settlement": True},
        }
        if self.settings.get("merchant_account_id"):
            params["merchant_account_id"] = self.settings.get("merchant_account_id")
        result = self._call(lambda: self.gateway.transaction.sale(params))
        transaction = getattr(result, "transaction", None)
        if result.is_success:
            return SaleOutcome(True, result.transaction.id, result.transaction.status, "approved")
        return SaleOutcome(
            False, getattr(transaction, "id", None), getattr(transaction, "status", "refused"), result.message
        )

    def refund(self, transaction_id: str, amount: str, order_id: str) -> SaleOutcome:
        result = self._call(
            lambda: self.gateway.transaction.refund(transaction_id, {"amount": amount, "order_id": order_id})
        )
        transaction = getattr(result, "transaction", None)
        if result.is_success:
            return SaleOutcome(True, result.transaction.id, result.transaction.status, "refunded")
        return SaleOutcome(
            False, getattr(transaction, "id", None), getattr(transaction, "status", "refused"), result.message
        )

    def parse_notification(self, signature: str, payload: str) -> CardNotice:
        try:
            notification = self.gateway.webhook_notification.parse(signature, payload)
        except InvalidSignatureError as error:
            raise InvalidNotification(str(error)) from None
        except (ValueError, LookupError, TypeError, RecursionError, ExpatError) as error:
            # The SDK unpacks what it is given without checking it (bad base64, XML, nesting):
            # whatever it cannot read is not a notification, never a crash of the hook.
            raise InvalidNotification(f"cannot be read ({type(error).__name__})") from None
        subject = getattr(notification, "dispute", None) or getattr(notification, "transaction", None)
        if subject is None:
            return CardNotice(notification.kind, "-", None, None, None)
        transaction = getattr(subject, "transaction", None)  # a dispute names the transaction disputed
        amount = getattr(subject, "amount_disputed", None) or getattr(subject, "amount", None)
        return CardNotice(
            kind=notification.kind,
            notice_id=subject.id,
            transaction_id=transaction.id if transaction is not None else subject.id,
            amount=None if amount is None else str(amount),
            currency=getattr(subject, "currency_iso_code", None),
        )


def braintree_factory(override_url: str | None) -> Callable[[GatewaySettings], CardGateway]:
    return lambda settings: BraintreeCards(settings, override_url)
