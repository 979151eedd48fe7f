"""Ledger documents as Kazoo 4.3's crossbar shows them, computed from the documents themselves
(pure: no store, no clock). Each function follows one piece of Kazoo:

- `public_json`: kz_ledger:public_json (core/kazoo_ledgers/src/kz_ledger.erl:534-563 with
  to_json at 569-595): the known fields only, `id`, and `amount` in currency units, negative
  for a debit;
- `summary_by_service`: the `ledgers/list_by_timestamp` view and its reduce
  (core/kazoo_modb/priv/couchdb/views/ledgers.json), as cb_ledgers sums it per service and
  turns units into currency (cb_ledgers.erl:296-360);
- `breakdown_by_account`: the `ledgers/summary_by_account` view grouped by account
  (cb_ledgers.erl:334-341 and 466-491). Its map reads `source.service`, `account.id` and
  `period.start`: a document without a source, an account or a period makes it throw, and
  CouchDB then leaves that document out. So does this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bookkeeper.domain.money import to_major

# The sub-fields kz_ledger keeps of each object (kzd_ledgers' paths); anything else is dropped.
KNOWN_OBJECTS = {
    "account": ("id", "name"),
    "executor": ("trigger", "module"),
    "source": ("id", "service"),
    "usage": ("quantity", "type", "unit"),
    "period": ("start", "end"),
}
KNOWN_PLAIN = ("description", "metadata", "audit")


def unit_amount(doc: Mapping[str, Any]) -> int:
    amount = doc.get("amount")
    return abs(amount) if isinstance(amount, int) and not isinstance(amount, bool) else 0


def signed_units(doc: Mapping[str, Any]) -> int:
    return -unit_amount(doc) if doc.get("pvt_ledger_type") == "debit" else unit_amount(doc)


def public_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name, keys in KNOWN_OBJECTS.items():
        value = doc.get(name)
        if isinstance(value, Mapping):
            shown[name] = {key: value[key] for key in keys if value.get(key) is not None}
    for name in KNOWN_PLAIN:
        if doc.get(name) is not None:
            shown[name] = doc[name]
    shown["amount"] = to_major(signed_units(doc))
    shown["id"] = doc.get("_id")
    return shown


def is_live_ledger(doc: Mapping[str, Any] | None) -> bool:
    return isinstance(doc, Mapping) and doc.get("pvt_type") == "ledger" and not doc.get("pvt_deleted")


def _service(doc: Mapping[str, Any]) -> str | None:
    """The source service the views emit under; None when the map would throw (no source)."""
    source = doc.get("source")
    if not isinstance(source, Mapping):
        return None
    service = source.get("service")
    return service if isinstance(service, str) else "undefined"  # a JS property named by undefined


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _add(totals: dict[str, dict[str, Any]], service: str, amount: int, usage: Any) -> None:
    """The views' reduce for one service: amounts and quantities add up, the first type and unit
    given stay."""
    usage = usage if isinstance(usage, Mapping) else {}
    entry = totals.setdefault(service, {"amount": 0, "usage": {"quantity": 0}})
    entry["amount"] += amount
    entry["usage"]["quantity"] += _number(usage.get("quantity"))
    for key in ("type", "unit"):
        if not entry["usage"].get(key) and usage.get(key):
            entry["usage"][key] = usage[key]


def _in_currency(totals: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {
        service: {"amount": to_major(entry["amount"]), "usage": dict(entry["usage"])}
        for service, entry in totals.items()
    }


def _ordered(docs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    live = [doc for doc in docs if is_live_ledger(doc)]
    return sorted(live, key=lambda doc: (_number(doc.get("pvt_created")), str(doc.get("_id"))))


def summary_by_service(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    totals: dict[str, dict[str, Any]] = {}
    for doc in _ordered(docs):
        service = _service(doc)
        if service is not None:
            _add(totals, service, signed_units(doc), doc.get("usage"))
    return _in_currency(totals)


def breakdown_by_account(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    accounts: dict[str, dict[str, Any]] = {}
    for doc in _ordered(docs):
        service, account, period = _service(doc), doc.get("account"), doc.get("period")
        if service is None or not isinstance(account, Mapping) or not isinstance(period, Mapping):
            continue
        account_id = account.get("id")
        if not isinstance(account_id, str):
            continue  # emitted under a null key, which names no account to break down by
        row = accounts.setdefault(account_id, {"name": None, "ledgers": {}, "total": 0})
        row["name"] = row["name"] or account.get("name")
        row["total"] += signed_units(doc)
        _add(row["ledgers"], service, signed_units(doc), doc.get("usage"))
    breakdown = []
    for account_id in sorted(accounts):  # the view's key order
        row = accounts[account_id]
        shown_account = {"id": account_id, **({"name": row["name"]} if row["name"] is not None else {})}
        breakdown.append(
            {"account": shown_account, "ledgers": _in_currency(row["ledgers"]), "total": to_major(row["total"])}
        )
    return breakdown
