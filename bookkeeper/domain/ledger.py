"""Charges as Kazoo 4.3 ledger documents, and the charged levels read back from them.

Kazoo computes an account's balance from the `ledger` documents of its current monthly
database, so every charge Kazbill makes is written in exactly that shape: `pvt_ledger_type`
debit or credit, `amount` a positive integer in units, `source.service` the reason. What Kazoo
has no field for (the reason code, the item, the level, the ratio, the period) goes under
`metadata.kazbill`, which is also where the bookkeeper reads its high-water marks back from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bookkeeper.domain.added_vat import with_vat
from bookkeeper.domain.charges import Charge
from bookkeeper.domain.kazoo_ledger import kazoo_ledger
from bookkeeper.domain.kazoo_names import account_modb, gregorian_of
from bookkeeper.domain.periods import Period, day_start_utc
from bookkeeper.domain.plans import ItemPrice

MRC_REASONS = ("monthly_recurring", "recurring_prorate")
# The sources Kazoo 4.3 registers (kz_ledgers.erl:32-50: per-minute-voip, services, payments,
# rollovers): Kazoo's UIs group a ledger by them. Kazbill's finer kind (monthly, prorated,
# daily, a gateway's name) is metadata.kazbill.reason, which is what Kazbill itself reads.
SERVICES_SOURCE, PAYMENTS_SOURCE, PER_MINUTE_SOURCE = "services", "payments", "per-minute-voip"


def entry_reason(entry: Mapping[str, Any]) -> str | None:
    """What kind of entry it is: Kazbill's own reason, else the source another writer gave it."""
    meta = (entry.get("metadata") or {}).get("kazbill") or {}
    return meta.get("reason") or (entry.get("source") or {}).get("service")


def _gregorian_day_start(day: date, tz: str) -> int:
    return gregorian_of(day_start_utc(day, tz))


def ledger_db(account_id: str, charge: Charge) -> str:
    """The monthly database a charge lands in: the month of its (reseller-local) day."""
    return account_modb(account_id, charge.day.year, charge.day.month)


def ledger_document(
    charge: Charge,
    *,
    account_id: str,
    account_name: str,
    currency: str,
    tz: str,
    now_gregorian: int,
    added_vat_rate: Decimal = Decimal(0),
) -> dict[str, Any]:
    """`added_vat_rate`: a netto reseller's VAT, debited with the charge (bookkeeper.domain.added_vat)."""
    period_start = _gregorian_day_start(charge.period.start, tz)
    period_end = _gregorian_day_start(charge.period.end + timedelta(days=1), tz) - 1
    amount, vat = with_vat(charge.amount, added_vat_rate)
    return kazoo_ledger(
        charge.entry_id,
        charge.ledger_type,
        amount,
        description=charge.description,
        source={"service": SERVICES_SOURCE, "id": charge.entry_id},
        usage={
            "type": charge.category,
            "quantity": charge.quantity,
            "unit": "day" if charge.reason == "daily_fee" else "month",
        },
        period={"start": period_start, "end": period_end},
        account_id=account_id,
        account_name=account_name,
        metadata={
            "kazbill": {
                "reason": charge.reason,
                "code": charge.code,
                "category": charge.category,
                "item": charge.item,
                "quantity": charge.quantity,
                "rate": charge.rate,
                "monthly": charge.monthly,
                "ratio": charge.ratio,
                "name": charge.name,
                **({"names": dict(charge.names)} if charge.names else {}),
                "from_quantity": charge.from_quantity,
                "from_monthly": charge.from_monthly,
                "currency": currency,
                "day": charge.day.isoformat(),
                "period": {"start": charge.period.start.isoformat(), "end": charge.period.end.isoformat()},
                **({"vat": vat} if vat else {}),
            }
        },
        db=ledger_db(account_id, charge),
        now_gregorian=now_gregorian,
    )


def signed_amount(entry: Mapping[str, Any]) -> int:
    amount = entry.get("amount", 0)
    return -amount if entry.get("pvt_ledger_type") == "debit" else amount


@dataclass(frozen=True)
class ChargedLevels:
    """What a period (or a day) has charged per item so far, read from its ledger entries."""

    levels: Mapping[tuple[str, str], ItemPrice]
    rounds: Mapping[tuple[str, str], int]  # prorated credits issued per item

    def level(self, category: str, item: str) -> ItemPrice | None:
        return self.levels.get((category, item))

    def round_of(self, category: str, item: str) -> int:
        return self.rounds.get((category, item), 0)


def _kazbill(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = (entry.get("metadata") or {}).get("kazbill")
    if entry.get("pvt_type") != "ledger" or entry.get("pvt_deleted") or not isinstance(meta, Mapping):
        return None
    return meta


def _price_at(meta: Mapping[str, Any]) -> ItemPrice:
    return ItemPrice(
        meta["category"],
        meta["item"],
        meta["item"],
        meta["quantity"],
        meta["quantity"],
        meta.get("rate"),
        meta["monthly"],
        0,
        meta["monthly"],
        0,
    )


def _levels(entries: Iterable[Mapping[str, Any]], matches: Callable[[Mapping[str, Any]], bool]) -> ChargedLevels:
    """Per item, the highest level charged in the item's current round. Without prorated
    credits there is one round. Each credit opens the next: its id ends in -r<N> for round N,
    it sets the level it credited down to, and the debits of round N carry the same suffix."""
    by_item: dict[tuple[str, str], list[tuple[int, Mapping[str, Any]]]] = {}
    for entry in entries:
        meta = _kazbill(entry)
        if meta is not None and matches(meta) and meta.get("reason") != "feature_activation":
            by_item.setdefault((meta["category"], meta["item"]), []).append((_round_of(entry["_id"]), meta))
    levels: dict[tuple[str, str], ItemPrice] = {}
    rounds: dict[tuple[str, str], int] = {}
    for key, found in by_item.items():
        current = sum(1 for _, meta in found if meta["reason"] == "recurring_prorate_credit")
        in_round = [meta for round_, meta in found if round_ == current]
        if current:
            rounds[key] = current
        if in_round:
            levels[key] = _price_at(max(in_round, key=lambda meta: meta["quantity"]))
    return ChargedLevels(levels, rounds)


def _round_of(entry_id: str) -> int:
    tail = entry_id.rsplit("-", 1)[-1]
    return int(tail[1:]) if tail.startswith("r") and tail[1:].isdigit() else 0


def period_levels(entries: Iterable[Mapping[str, Any]], period: Period) -> ChargedLevels:
    start = period.start.isoformat()
    return _levels(
        entries,
        lambda meta: (
            (meta.get("period") or {}).get("start") == start
            and meta.get("reason") in (*MRC_REASONS, "recurring_prorate_credit")
        ),
    )


def period_schemes(entries: Iterable[Mapping[str, Any]], period: Period) -> dict[str, str]:
    """How the period has been charging each category it charged: "monthly" (an opening's or a
    rise's debit), else "daily" (a day's fee). A period charges a category one way, the way it
    began to: a reseller who switches it mid-period has the new way from the next period (a
    month paid is not charged again by the day, nor days paid by the day again by the month)."""
    start = period.start.isoformat()
    schemes: dict[str, str] = {}
    for entry in entries:
        meta = _kazbill(entry)
        if meta is None or (meta.get("period") or {}).get("start") != start:
            continue
        if meta.get("reason") in MRC_REASONS:
            schemes[meta["category"]] = "monthly"
        elif meta.get("reason") == "daily_fee":
            schemes.setdefault(meta["category"], "daily")
    return schemes


def day_levels(entries: Iterable[Mapping[str, Any]], day: date) -> ChargedLevels:
    iso = day.isoformat()
    return _levels(entries, lambda meta: meta.get("day") == iso and meta.get("reason") == "daily_fee")
