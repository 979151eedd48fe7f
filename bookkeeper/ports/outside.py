"""The other ports: mail, payment gateways, the document renderer and the clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from bookkeeper.domain.kazoo_names import gregorian_of


class MailUnavailable(Exception):
    """The mail server could not take the message now (unreachable, 4xx): try again later."""


class MailRejected(Exception):
    """The mail server refused the message for good (5xx): retrying would not help."""


class Mailer(Protocol):
    """Sends one email; raises MailUnavailable or MailRejected, whose text says why."""

    def send(self, message: EmailMessage) -> None: ...


class WebhookPoster(Protocol):
    """POSTs one webhook delivery; returns the HTTP status, raises WebhookUnreachable (its text
    says why) when no answer came: refused, timed out, or an address Kazbill may not call."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int: ...


class WebhookUnreachable(Exception):
    pass


class GatewayUnavailable(Exception):
    """A payment gateway could not be asked now (unreachable, 5xx, timeout): the caller answers
    so that the gateway sends its notification again later."""


class IpnVerifier(Protocol):
    """Posts an IPN back to PayPal (`cmd=_notify-validate&` + the raw body) and returns PayPal's
    one-word verdict, VERIFIED or INVALID; raises GatewayUnavailable."""

    def verify(self, url: str, body: bytes) -> str: ...


@dataclass(frozen=True)
class SavedCard:
    token: str
    card_type: str
    last_4: str
    expiration: str  # MM/YYYY
    default: bool


@dataclass(frozen=True)
class SaleOutcome:
    success: bool
    transaction_id: str | None  # a declined sale may still have one (status processor_declined)
    status: str
    message: str


@dataclass(frozen=True)
class CardNotice:
    """A verified webhook notification of the card gateway, reduced to what billing needs."""

    kind: str  # dispute_opened, dispute_won, transaction_settlement_declined, ...
    notice_id: str  # the dispute's or transaction's id
    transaction_id: str | None
    amount: str | None  # the gateway's text, in its currency
    currency: str | None


class CardRefused(Exception):
    """The card gateway refused a request for good (validation error, unknown card): the text says why."""


class InvalidNotification(Exception):
    """A webhook whose signature does not verify with the reseller's keys."""


class CardGateway(Protocol):
    """One reseller's card gateway (Braintree): the vault customer of an account is its id.
    Raises GatewayUnavailable when it cannot be reached, CardRefused when it says no."""

    def client_token(self, customer_id: str) -> str: ...
    def ensure_customer(self, customer_id: str, name: str) -> None: ...
    def cards(self, customer_id: str) -> list[SavedCard]: ...
    def add_card(self, customer_id: str, nonce: str, make_default: bool) -> SavedCard: ...
    def delete_card(self, token: str) -> None: ...
    def make_default(self, token: str) -> SavedCard: ...
    def sale(self, customer_id: str, token: str, amount: str, order_id: str) -> SaleOutcome: ...
    def refund(self, transaction_id: str, amount: str, order_id: str) -> SaleOutcome: ...  # the refund's own id
    def parse_notification(self, signature: str, payload: str) -> CardNotice: ...


class DocumentRenderer(Protocol):
    """Turns a document's data (bookkeeper.domain.documents.document_data) into its HTML (the
    default template, or a reseller's own `template` text) and its PDF. Raises ValueError (with
    `field` and `reason`) for data or a template it refuses to render."""

    def html(self, data: Mapping[str, Any], template: str | None = None) -> str: ...
    def pdf(self, html: str) -> bytes: ...
    # Both at once; a reseller's own template within a time and memory bound (ValueError past it).
    def document_pdf(self, data: Mapping[str, Any], template: str | None = None) -> bytes: ...


class Clock(Protocol):
    """Where "now" comes from; the domain never asks, the handlers are told."""

    def now(self) -> datetime: ...  # timezone-aware


def gregorian_now(clock: Clock) -> int:
    """Now, as Kazoo stamps its documents (Gregorian seconds)."""
    return gregorian_of(clock.now())
