"""Yandex.Money / YooMoney: the wallet's HTTP notification and the legacy shop protocol
(checkOrder / paymentAviso), their signatures, and what a genuine one means for the ledger.

Wallet: YooMoney signs `notification_type&operation_id&amount&currency&datetime&sender&codepro&
notification_secret&label` with SHA-1. Only those fields are signed, so only they are believed:
the credit is `amount` (what reached the wallet), never `withdraw_amount`, which anyone on the
path could change. `label` carries the account id (the payments page sets it).

Shop: the payment system signs `action;orderSumAmount;orderSumCurrencyPaycash;orderSumBankPaycash;
shopId;invoiceId;customerNumber;shopPassword` with MD5 (upper-case hex); `customerNumber` is the
account id, `invoiceId` the payment's id. checkOrder asks "may this be paid?" and moves no money;
paymentAviso says it was paid and is credited once per invoiceId. Both are answered with XML
elements named after the action.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

from bookkeeper.domain.gateways.amounts import GatewayFieldError, amount_text, gateway_amount
from bookkeeper.domain.gateways.postings import CREDIT, IGNORE, GatewayPosting, external_id, payer_account
from bookkeeper.domain.gateways.settings import GatewaySettings

WALLET_SIGNED = ("notification_type", "operation_id", "amount", "currency", "datetime", "sender", "codepro")
SHOP_SIGNED = (
    "action",
    "orderSumAmount",
    "orderSumCurrencyPaycash",
    "orderSumBankPaycash",
    "shopId",
    "invoiceId",
    "customerNumber",
)
RUB_CODE, RUB_DEMO_CODE = "643", "10643"  # ISO 4217 numeric; the demo shop pays in "10643"
SHOP_ACTIONS = {"check": "checkOrder", "paymentaviso": "paymentAviso"}
# The shop protocol's answer codes.
SHOP_OK, SHOP_AUTH_FAILED, SHOP_REFUSED, SHOP_BAD_REQUEST = 0, 1, 100, 200
QUICKPAY_URL = "https://yoomoney.ru/quickpay/confirm.xml"
SHOP_FORM_URL, SHOP_DEMO_FORM_URL = "https://yoomoney.ru/eshop.xml", "https://demomoney.yandex.ru/eshop.xml"


def wallet_signature(fields: Mapping[str, str], notification_secret: str) -> str:
    parts = [fields.get(name, "") for name in WALLET_SIGNED] + [notification_secret, fields.get("label", "")]
    return hashlib.sha1("&".join(parts).encode("utf-8")).hexdigest()


def wallet_signature_valid(fields: Mapping[str, str], notification_secret: str) -> bool:
    given = fields.get("sha1_hash", "")
    return hmac.compare_digest(given.lower().encode(), wallet_signature(fields, notification_secret).encode())


def shop_signature(fields: Mapping[str, str], shop_password: str) -> str:
    parts = [fields.get(name, "") for name in SHOP_SIGNED] + [shop_password]
    return hashlib.md5(";".join(parts).encode("utf-8")).hexdigest().upper()


def shop_signature_valid(fields: Mapping[str, str], shop_password: str) -> bool:
    given = fields.get("md5", "")
    return hmac.compare_digest(given.upper().encode(), shop_signature(fields, shop_password).encode())


def interpret_wallet_notification(fields: Mapping[str, str], settings: GatewaySettings) -> GatewayPosting:
    """The posting a correctly signed wallet notification asks for."""
    account_id = payer_account(fields.get("label"), "label")
    operation = external_id(fields.get("operation_id"), "operation_id")
    if fields.get("test_notification") == "true":
        return GatewayPosting(IGNORE, "yandex_money", account_id, operation, note="a test notification; nothing posted")
    if fields.get("codepro") != "false":
        raise GatewayFieldError("codepro", "a protected (code-pro) payment is not credited until it is received")
    if fields.get("unaccepted") == "true":
        return GatewayPosting(
            IGNORE,
            "yandex_money",
            account_id,
            operation,
            note="the transfer is frozen until the wallet accepts it; nothing posted",
        )
    if fields.get("currency") != RUB_CODE:
        raise GatewayFieldError("currency", f"{fields.get('currency')!r} is not roubles ({RUB_CODE})")
    if fields.get("notification_type") not in ("p2p-incoming", "card-incoming"):
        raise GatewayFieldError("notification_type", f"{fields.get('notification_type')!r} is not an incoming payment")
    amount = gateway_amount(fields.get("amount"), "RUB", "amount")
    return GatewayPosting(CREDIT, "yandex_money", account_id, operation, amount, "wallet payment")


def interpret_shop_request(fields: Mapping[str, str], settings: GatewaySettings, action: str) -> GatewayPosting:
    """checkOrder → IGNORE (nothing moves; the answer says whether it may be paid), paymentAviso →
    CREDIT. Raises GatewayFieldError naming the field that refuses it."""
    if fields.get("action") != action:
        raise GatewayFieldError("action", f"{fields.get('action')!r} sent to the {action} address")
    if fields.get("shopId") != settings.get("shop_id"):
        raise GatewayFieldError("shopId", "not this reseller's shop")
    expected = RUB_DEMO_CODE if settings.get("test_mode") else RUB_CODE
    if fields.get("orderSumCurrencyPaycash") != expected:
        raise GatewayFieldError(
            "orderSumCurrencyPaycash", f"{fields.get('orderSumCurrencyPaycash')!r} is not {expected}"
        )
    account_id = payer_account(fields.get("customerNumber"), "customerNumber")
    invoice = external_id(fields.get("invoiceId"), "invoiceId")
    amount = gateway_amount(fields.get("orderSumAmount"), "RUB", "orderSumAmount")
    if action == "checkOrder":
        refusal = settings.within_limits(amount)
        if refusal:
            raise GatewayFieldError("orderSumAmount", refusal)
        return GatewayPosting(IGNORE, "yandex_money", account_id, invoice, amount, "checkOrder: may be paid")
    return GatewayPosting(CREDIT, "yandex_money", account_id, invoice, amount, "shop payment (paymentAviso)")


def shop_answer(action: str, code: int, performed: datetime, fields: Mapping[str, str], message: str = "") -> str:
    """The XML the shop protocol expects: `<checkOrderResponse .../>` or `<paymentAvisoResponse .../>`,
    echoing invoiceId and shopId as they came."""
    attributes = {
        "performedDatetime": performed.isoformat(timespec="milliseconds"),
        "code": str(code),
        "invoiceId": fields.get("invoiceId", ""),
        "shopId": fields.get("shopId", ""),
    }
    if message:
        attributes["message"] = message[:255]
    rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response {rendered}/>\n'


def wallet_payment_url(settings: GatewaySettings, account_id: str, amount: int, purpose: str) -> str:
    """YooMoney's quickpay form for a card payment into the reseller's wallet, labelled with the account."""
    return (
        QUICKPAY_URL
        + "?"
        + urlencode(
            {
                "receiver": settings.get("wallet"),
                "quickpay-form": "button",
                "targets": purpose[:150],
                "paymentType": "AC",
                "sum": amount_text(amount, "RUB"),
                "label": account_id,
            }
        )
    )


def shop_payment_form(settings: GatewaySettings, account_id: str, amount: int) -> dict[str, Any]:
    """The form the payments page posts to the shop protocol's payment page."""
    return {
        "action": SHOP_DEMO_FORM_URL if settings.get("test_mode") else SHOP_FORM_URL,
        "fields": {
            "shopId": settings.get("shop_id"),
            "scid": settings.get("scid"),
            "sum": amount_text(amount, "RUB"),
            "customerNumber": account_id,
        },
    }
