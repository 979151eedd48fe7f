"""An invoice's lines, read from the ledger of one account for one billing period.

- a monthly charge (monthly_recurring, recurring_prorate) is a line of its own, with the share
  of the period it covers; a prorated credit for a removed service is a negative line;
- daily fees are grouped by (item, rate, quantity): one line per group with the days it covers
  as ranges ("1-10, 15-20");
- a one-time debit (an activation, a manual charge) is a line of its own;
- per-minute calls are one line per carrier (the calls each carrier carries, by its patterns).
Payments, refunds, disputes and balance corrections move money but are no service: no line.

Everything but calls goes to the main carrier. Amounts are summed in units; a carrier's lines
are rounded to the currency's minor unit together, so that they add up to their ledger sum
rounded once (what the balance was charged, as the balance shows it), each line within a minor
unit of its exact amount (rounded_as_documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from bookkeeper.domain.call_totals import PER_MINUTE_REASONS, CallCarrier, per_minute_totals
from bookkeeper.domain.documents import line_arithmetic
from bookkeeper.domain.documents.line_arithmetic import Arithmetic
from bookkeeper.domain.money import UNITS_PER_MAJOR, to_minor_units
from bookkeeper.domain.money import currency as currency_of
from bookkeeper.domain.periods import local_day_of_gregorian

MONTHLY_REASONS = ("monthly_recurring", "recurring_prorate", "recurring_prorate_credit")
DAILY_REASON = "daily_fee"
KIND_ORDER = ("monthly", "prorated", "daily", "one_time", "calls")
# Money moving in or out that is not a service sold: never an invoice line.
NOT_SERVICES = frozenset(
    {
        "manual_addition",
        "auto_addition",
        "topup",
        "paypal",
        "yandex_money",
        "braintree",
        "wire_transfer",
        "balance_correction",
        "paypal_refund",
        "paypal_reversal",
        "paypal_reversal_cancelled",
        "braintree_refund",
        "braintree_dispute",
        "braintree_dispute_won",
        "braintree_settlement_declined",
        "braintree_refund_failed",
        "database_rollup",
        "admin_discretion",
        # What a credit note gave back: shown by the credit note, which refers to its invoice.
        "credit_note",
        # The month's rollover carries the last month's balance (a debit when it was negative):
        # money already shown, on the month it was charged in.
        "rollovers",
    }
)


@dataclass(frozen=True)
class InvoiceLine:
    kind: str  # monthly, prorated, daily, one_time, calls
    carrier: str | None  # the carrier id that issues it (None: the reseller has no carriers)
    description: str
    quantity: int  # items; calls for a calls line
    rate_minor: int | None  # per item per month (monthly), per item per day (daily)
    amount_minor: int  # as charged: net for netto resellers, gross for brutto; negative for a credit
    days: tuple[tuple[str, str], ...] = ()  # daily fees: ranges of days; prorated: the part of the period
    ratio: str | None = None  # prorated: days charged / days in the period
    billed_seconds: int = 0  # calls
    entry_ids: tuple[str, ...] = ()
    category: str | None = None  # the plan category (devices, users...), "calls" for calls
    arithmetic: Arithmetic | None = None  # quantity × unit price (× share) (− discount) = amount
    name: str | None = None  # the plan item's name, where the charge recorded it (the template words the rest)
    names: Mapping[str, str] = field(default_factory=dict)  # that name per language, where the plan gave some
    from_quantity: int = 0  # the level an increase, a decrease or a raised day's fee started from
    units: int | None = None  # the ledger's exact amount (Kazoo units), which amount_minor rounds


_DAY_IN_DESCRIPTION = re.compile(r",? \d{4}-\d{2}-\d{2}")


def undated(description: str) -> str:
    """A daily fee's description without its day ("Desk phone × 3, 2026-11-05" → "Desk phone × 3"):
    the day is the line's ranges, and with it in the key every day was a line of its own (Fjord
    Design's November: 35 lines over 2 pages for 44.60 EUR)."""
    return _DAY_IN_DESCRIPTION.sub("", description).strip()


def day_ranges(days: Iterable[date]) -> tuple[tuple[str, str], ...]:
    """Consecutive days merged: 1, 2, 3, 7, 8 → (1-3), (7-8)."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return tuple((first.isoformat(), last.isoformat()) for first, last in ranges)


def invoice_lines(
    entries: Iterable[Mapping[str, Any]],
    start: date,
    end: date,
    currency: str,
    tz: str,
    carriers: Sequence[CallCarrier] = (),
) -> list[InvoiceLine]:
    """`tz` is the reseller's: it dates the entries other writers made (by their pvt_created)."""
    main = next((carrier.name for carrier in carriers if carrier.main), None)
    lines: list[InvoiceLine] = []
    daily: dict[tuple, list[Mapping[str, Any]]] = {}
    calls: list[Mapping[str, Any]] = []
    for entry in sorted(entries, key=lambda e: str(e.get("_id", ""))):
        kazbill = (entry.get("metadata") or {}).get("kazbill") or {}
        reason = kazbill.get("reason") or (entry.get("source") or {}).get("service")
        if (
            entry.get("pvt_deleted")
            or entry.get("pvt_type", "ledger") != "ledger"
            or not belongs_to_period(kazbill, entry, start, end, tz)
        ):
            continue
        if reason in PER_MINUTE_REASONS:
            calls.append(entry)
        elif reason == DAILY_REASON:
            key = (
                kazbill.get("category"),
                kazbill.get("item"),
                kazbill.get("rate"),
                kazbill.get("quantity"),
                undated(str(entry.get("description") or "")),
            )
            daily.setdefault(key, []).append(entry)
        elif reason in MONTHLY_REASONS:
            lines.append(_monthly(entry, kazbill, reason, currency, main))
        elif reason not in NOT_SERVICES and entry.get("pvt_ledger_type") == "debit":
            lines.append(
                InvoiceLine(
                    "one_time",
                    main,
                    str(entry.get("description") or reason),
                    1,
                    None,
                    minor_of(_signed(entry), currency),
                    entry_ids=(str(entry["_id"]),),
                    units=_signed(entry),
                    arithmetic=line_arithmetic.activation(kazbill, _signed(entry))
                    if reason == "feature_activation"
                    else line_arithmetic.one(_signed(entry)),
                    name=kazbill.get("name") or None,
                    names=_names(kazbill.get("names")),
                    from_quantity=line_arithmetic.whole(kazbill.get("from_quantity")),
                )
            )
    for (_, _, rate, quantity, description), group in sorted(daily.items(), key=lambda item: str(item[0])):
        days = [date.fromisoformat(e["metadata"]["kazbill"]["day"]) for e in group]
        first = group[0]["metadata"]["kazbill"]
        amount = sum(_signed(e) for e in group)
        lines.append(
            InvoiceLine(
                "daily",
                main,
                str(description or "daily fee"),
                int(quantity or 0),
                None if rate is None else minor_of(int(rate), currency),
                minor_of(amount, currency),
                days=day_ranges(days),
                entry_ids=tuple(str(e["_id"]) for e in group),
                category=first.get("category"),
                arithmetic=line_arithmetic.daily(len(set(days)), amount),
                name=first.get("name") or None,
                names=_names(first.get("names")),
                from_quantity=line_arithmetic.whole(first.get("from_quantity")),
                units=amount,
            )
        )
    for totals in per_minute_totals(calls, carriers):  # the calls report lists the calls themselves
        lines.append(
            InvoiceLine(
                "calls",
                totals.carrier if carriers else None,
                "per-minute calls",
                totals.calls,
                None,
                minor_of(totals.amount, currency),
                billed_seconds=totals.billed_seconds,
                category="calls",
                arithmetic=line_arithmetic.one(totals.amount),
                units=totals.amount,
            )
        )
    lines = rounded_as_documents(lines, currency)
    return sorted(lines, key=lambda line: KIND_ORDER.index(line.kind))  # stable: ids, then carriers, within a kind


def rounded_as_documents(lines: Sequence[InvoiceLine], currency: str) -> list[InvoiceLine]:
    """Each carrier's lines rounded so that they add up to its ledger sum rounded once: the
    balance is the ledger's exact sum shown rounded, so a document whose lines were each rounded
    on their own could ask a kopeck more or less than the balance was charged (Beta Clinic:
    191.6669 + 86.6668 + ... invoiced 1,473.34 for 1,473.3337 debited, while its balance showed
    1,500 − 1,473.3337 = 26.67). Each line is its amount rounded down or up, whichever the
    shares of the leftover kopecks give it (the largest fractions first), so a line stays within
    a kopeck of its exact amount and its arithmetic still multiplies out to the kopeck."""
    step = UNITS_PER_MAJOR // 10 ** currency_of(currency).minor_units  # Kazoo units in a kopeck, a cent
    result = list(lines)
    carriers = dict.fromkeys(line.carrier for line in lines)
    for carrier in carriers:
        mine = [i for i, line in enumerate(result) if line.carrier == carrier and line.units is not None]
        exact = sum(int(result[i].units or 0) for i in mine)
        target = minor_of(exact, currency)
        floors = {i: int(result[i].units or 0) // step for i in mine}
        leftover = target - sum(floors.values())
        by_fraction = sorted(mine, key=lambda i: (-(int(result[i].units or 0) % step), i))
        for order, i in enumerate(by_fraction):
            rounded = floors[i] + (1 if order < leftover else 0)
            if rounded != result[i].amount_minor:
                result[i] = replace(result[i], amount_minor=rounded)
    return result


def lines_of(lines: Sequence[InvoiceLine], carrier: str | None) -> list[InvoiceLine]:
    """The lines a carrier issues; an empty list means it issues nothing for the period."""
    return [line for line in lines if line.carrier == carrier]


def _monthly(
    entry: Mapping[str, Any], kazbill: Mapping[str, Any], reason: str, currency: str, main: str | None
) -> InvoiceLine:
    period = kazbill.get("period") or {}
    prorated = reason != "monthly_recurring"
    amount = _signed(entry)
    return InvoiceLine(
        "prorated" if prorated else "monthly",
        main,
        str(entry.get("description") or kazbill.get("item") or reason),
        int(kazbill.get("quantity") or 0),
        None if kazbill.get("rate") is None else minor_of(int(kazbill["rate"]), currency),
        minor_of(amount, currency),
        days=((kazbill.get("day") or period.get("start", ""), period.get("end", "")),) if prorated else (),
        ratio=kazbill.get("ratio") if prorated else None,
        entry_ids=(str(entry["_id"]),),
        category=kazbill.get("category"),
        arithmetic=(line_arithmetic.prorated if prorated else line_arithmetic.monthly)(kazbill, amount),
        name=kazbill.get("name") or None,
        names=_names(kazbill.get("names")),
        from_quantity=line_arithmetic.whole(kazbill.get("from_quantity")),
        units=amount,
    )


def _names(value: Any) -> dict[str, str]:
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, Mapping) else {}


def belongs_to_period(kazbill: Mapping[str, Any], entry: Mapping[str, Any], start: date, end: date, tz: str) -> bool:
    """The entry's business belongs to the period: a monthly charge by its period, anything else
    by its day (Kazbill's own entries say which; another writer's by when it was created)."""
    period = kazbill.get("period") or {}
    if (kazbill.get("reason") or (entry.get("source") or {}).get("service")) == "monthly_recurring" and period.get(
        "start"
    ):
        return period["start"] == start.isoformat()
    day = kazbill.get("day")
    if day:
        return start.isoformat() <= day <= end.isoformat()
    created = entry.get("pvt_created")
    if isinstance(created, bool) or not isinstance(created, int):
        return False
    return start <= local_day_of_gregorian(created, tz) <= end


def _signed(entry: Mapping[str, Any]) -> int:
    amount = int(entry.get("amount") or 0)
    return -amount if entry.get("pvt_ledger_type") == "credit" else amount


def minor_of(units_amount: int, currency: str) -> int:
    shown = to_minor_units(units_amount, currency)
    exponent = shown.as_tuple().exponent
    assert isinstance(exponent, int)  # a quantized amount is finite
    return int(shown.scaleb(-exponent))
