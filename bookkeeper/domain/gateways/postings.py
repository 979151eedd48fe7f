"""What a verified gateway notification asks of the ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import is_account_id

CREDIT, DEBIT, IGNORE = "credit", "debit", "ignore"
# A gateway's transaction id becomes part of a ledger id: keep it short and plain.
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


@dataclass(frozen=True)
class GatewayPosting:
    action: str  # credit, debit, or ignore (recorded, nothing posted: e.g. a pending payment)
    reason: str  # the ledger reason: paypal, paypal_refund, yandex_money...
    account_id: str
    external_id: str  # the gateway's own id of this money movement: the posting's idempotency key
    amount: int = 0  # units, positive
    note: str = ""  # why, in words, for the attempt record


def external_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not EXTERNAL_ID.fullmatch(value):
        raise GatewayFieldError(field, f"{value!r} is not a transaction id (letters, digits, _.:-, at most 64)")
    return value


def payer_account(value: object, field: str) -> str:
    if not isinstance(value, str) or not is_account_id(value.strip()):
        raise GatewayFieldError(field, f"{value!r} is not a Kazoo account id")
    return value.strip()
