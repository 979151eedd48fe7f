"""The one shape of a Kazoo 4.3 ledger document, whoever in Kazbill writes it (a charge, a call,
a payment, a rollover).

Kazoo builds it in kz_ledger:to_json (core/kazoo_ledgers/src/kz_ledger.erl:566-595, 4.3): the
account, the amount, a description, the executor, `source` {service, id}, `usage` {type,
quantity, unit}, `period` {start, end}, metadata, `pvt_ledger_type` (debit or credit), then
pvt_type "ledger", pvt_created, pvt_modified and pvt_account_id. Its balance views sum `amount`
signed by `pvt_ledger_type`, so the amount is a positive integer in units whatever the side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def kazoo_ledger(
    entry_id: str,
    ledger_type: str,
    amount: int,
    *,
    description: str,
    source: Mapping[str, Any],
    usage: Mapping[str, Any],
    period: Mapping[str, Any],
    account_id: str,
    account_name: str,
    metadata: Mapping[str, Any],
    now_gregorian: int,
    db: str | None = None,
    executor: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if ledger_type not in ("credit", "debit"):
        raise ValueError(f"pvt_ledger_type: {ledger_type!r} is neither credit nor debit")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount: {amount!r} is not a non-negative integer number of units")
    return {
        "_id": entry_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "description": description,
        "source": dict(source),
        "usage": dict(usage),
        "period": dict(period),
        "account": {"id": account_id, "name": account_name},
        "metadata": dict(metadata),
        **({"executor": dict(executor)} if executor is not None else {}),
        "pvt_account_id": account_id,
        **({"pvt_account_db": db} if db is not None else {}),
        "pvt_created": now_gregorian,
        "pvt_modified": now_gregorian,
        "pvt_vsn": "1",
    }
