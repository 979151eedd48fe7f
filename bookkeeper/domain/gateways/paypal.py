"""PayPal Instant Payment Notification: what a *verified* IPN means for the ledger.

PayPal's rule is that a listener posts the notification back, byte for byte, prefixed with
`cmd=_notify-validate`, and trusts it only on the answer `VERIFIED` (done on the raw body by the
webhook, before this module sees any field). Verified is not enough: the money must have gone to
this reseller's PayPal account (receiver), in its currency, for one of its own customers
(`custom` carries the account id, set by the payments page's button), or nothing is posted.

Each money movement has its own `txn_id`: a payment, its refund and a reversal are different
transactions, so each posts once under its own id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError, amount_text, gateway_amount
from bookkeeper.domain.gateways.postings import CREDIT, DEBIT, IGNORE, GatewayPosting, external_id, payer_account
from bookkeeper.domain.gateways.settings import GatewaySettings

VERIFY_PREFIX = b"cmd=_notify-validate&"
LIVE_VERIFY_URL = "https://ipnpb.paypal.com/cgi-bin/webscr"
SANDBOX_VERIFY_URL = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"

# payment_status → (action, ledger reason)
MONEY_STATUSES = {
    "Completed": (CREDIT, "paypal"),
    "Refunded": (DEBIT, "paypal_refund"),
    "Reversed": (DEBIT, "paypal_reversal"),
    "Canceled_Reversal": (CREDIT, "paypal_reversal_cancelled"),
}


def ipn_charset(raw_body: bytes) -> str:
    """IPNs are form-encoded in the charset they name (windows-1252 unless the merchant's
    profile says otherwise); the field itself is ASCII, so it can be read before decoding."""
    for pair in raw_body.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == b"charset":
            name = value.decode("ascii", "replace").strip().lower()
            return name if name.replace("-", "").replace("_", "").isalnum() else "windows-1252"
    return "windows-1252"


def interpret_ipn(fields: Mapping[str, str], settings: GatewaySettings, reseller_currency: str) -> GatewayPosting:
    """The posting a verified IPN asks for; GatewayFieldError names the field that refuses it."""
    account_id = payer_account(fields.get("custom"), "custom")
    _check_receiver(fields, settings)
    if fields.get("test_ipn") == "1" and not settings.get("sandbox"):
        raise GatewayFieldError("test_ipn", "a sandbox notification sent to a live PayPal configuration")
    status = fields.get("payment_status")
    if status not in MONEY_STATUSES:
        return GatewayPosting(
            IGNORE,
            "paypal",
            account_id,
            fields.get("txn_id") or "-",
            note=f"payment_status {status!r} moves no money; nothing posted",
        )
    action, reason = MONEY_STATUSES[status]
    currency = fields.get("mc_currency")
    if currency != reseller_currency:
        raise GatewayFieldError("mc_currency", f"{currency!r} is not the reseller's currency, {reseller_currency}")
    amount = gateway_amount(fields.get("mc_gross"), reseller_currency, "mc_gross", signed=True)
    if (amount < 0) != (action == DEBIT):
        raise GatewayFieldError("mc_gross", f"a {status} notification cannot carry {fields.get('mc_gross')}")
    txn = external_id(fields.get("txn_id"), "txn_id")
    note = f"{status}" + (f" of {fields['parent_txn_id']}" if fields.get("parent_txn_id") else "")
    return GatewayPosting(action, reason, account_id, txn, abs(amount), note)


def _check_receiver(fields: Mapping[str, str], settings: GatewaySettings) -> None:
    expected_id, expected_email = settings.get("receiver_id"), settings.get("receiver_email")
    if expected_id and fields.get("receiver_id") != expected_id:
        raise GatewayFieldError("receiver_id", "the payment went to another PayPal account than this reseller's")
    if expected_email and (fields.get("receiver_email") or "").lower() != expected_email.lower():
        raise GatewayFieldError("receiver_email", "the payment went to another PayPal account than this reseller's")


LIVE_FORM_URL = "https://www.paypal.com/cgi-bin/webscr"
SANDBOX_FORM_URL = "https://www.sandbox.paypal.com/cgi-bin/webscr"


def payment_form(
    settings: GatewaySettings, account_id: str, amount: int, currency: str, *, notify_url: str, item_name: str
) -> dict[str, Any]:
    """PayPal's Buy Now form for a top-up: `custom` carries the account, `notify_url` this
    reseller's IPN hook, so the IPN that follows is credited to the right account."""
    return {
        "action": SANDBOX_FORM_URL if settings.get("sandbox") else LIVE_FORM_URL,
        "fields": {
            "cmd": "_xclick",
            "business": settings.get("receiver_email") or settings.get("receiver_id"),
            "item_name": item_name[:127],
            "amount": amount_text(amount, currency),
            "currency_code": currency,
            "custom": account_id,
            "notify_url": notify_url,
            "no_shipping": "1",
            "charset": "utf-8",
        },
    }
