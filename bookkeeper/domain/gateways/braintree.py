"""Braintree's webhook form as the SDK will read it: `bt_signature` is one or more
`public_key|signature` pairs joined by `&`, and `bt_payload` is base64 text. The SDK itself
unpacks each pair into exactly two parts and encodes the payload as ASCII, and fails with
anything else instead of refusing it; so the shape is checked here first, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bookkeeper.domain.gateways.amounts import GatewayFieldError

SIGNATURE_PAIR = re.compile(r"[^|]{1,100}\|[0-9a-fA-F]{1,128}")
PAYLOAD = re.compile(r"[A-Za-z0-9+/=\n]+")
MAX_SIGNATURE_PAIRS = 10


def webhook_parts(fields: Mapping[str, str]) -> tuple[str, str]:
    """(bt_signature, bt_payload) fit to hand to the SDK, or GatewayFieldError naming the field."""
    signature, payload = fields.get("bt_signature"), fields.get("bt_payload")
    if not signature or not payload:
        raise GatewayFieldError(
            "bt_signature" if not signature else "bt_payload", "bt_signature and bt_payload are required"
        )
    pairs = signature.split("&")
    if len(pairs) > MAX_SIGNATURE_PAIRS or not all(SIGNATURE_PAIR.fullmatch(pair) for pair in pairs):
        raise GatewayFieldError("bt_signature", "not public_key|signature pairs (hex signatures) joined by &")
    if not PAYLOAD.fullmatch(payload):
        raise GatewayFieldError("bt_payload", "not base64 text (letters, digits, +, /, = and line breaks)")
    return signature, payload
