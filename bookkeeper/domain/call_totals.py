"""Per-minute totals of a period, per carrier: what the calls report and the per-minute line of
an invoice add up.

A call belongs to the first carrier whose called-number pattern matches the number it was rated
by, or whose caller pattern matches its calling number; else to the main carrier. Carriers are
the reseller's legal entities (the documents define them); with none given, calls are grouped by
the carrier their rate names (the deck's `carrier` column, None when it names none). Totals come
from the ledger entries themselves, so they always agree with the balance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bookkeeper.domain.ledger import entry_reason

PER_MINUTE_REASONS = ("per_minute_call", "sub_account_per_minute_call")


@dataclass(frozen=True)
class CallCarrier:
    name: str
    called_patterns: tuple[str, ...] = ()  # regular expressions over the digits of the number called
    caller_patterns: tuple[str, ...] = ()
    main: bool = False


@dataclass
class CarrierCalls:
    carrier: str | None
    calls: int = 0
    billed_seconds: int = 0
    amount: int = 0  # units, the sum of the calls' debits
    by_direction: dict[str, int] = field(default_factory=dict)  # calls per direction


def carrier_for(number: str, caller: str, carriers: Sequence[CallCarrier]) -> str | None:
    for carrier in carriers:
        if any(re.search(pattern, number) for pattern in carrier.called_patterns) or any(
            re.search(pattern, caller) for pattern in carrier.caller_patterns
        ):
            return carrier.name
    return next((carrier.name for carrier in carriers if carrier.main), None)


def per_minute_totals(entries: Iterable[Mapping], carriers: Sequence[CallCarrier] = ()) -> list[CarrierCalls]:
    """The per-minute debits among `entries` (ledger documents), totalled per carrier, in the
    order carriers are given (then by name). A per-minute entry not written by Kazbill (jonny5's)
    counts too, under the main carrier: it is a call the account paid for."""
    totals: dict[str | None, CarrierCalls] = {}
    for entry in entries:
        if entry_reason(entry) not in PER_MINUTE_REASONS or entry.get("pvt_deleted"):
            continue
        kazbill = (entry.get("metadata") or {}).get("kazbill") or {}
        call, rate = kazbill.get("call") or {}, kazbill.get("rate") or {}
        number, caller = str(call.get("number") or ""), str(call.get("caller") or "")
        name = carrier_for(number, caller, carriers) if carriers else (rate.get("carrier") or None)
        sign = -1 if entry.get("pvt_ledger_type") == "credit" else 1  # a refunded call takes its amount back
        found = totals.setdefault(name, CarrierCalls(name))
        found.calls += sign
        found.billed_seconds += sign * int(
            call.get("billed_seconds") or (entry.get("usage") or {}).get("quantity") or 0
        )
        found.amount += sign * int(entry.get("amount") or 0)
        direction = str(call.get("direction") or "outbound")
        found.by_direction[direction] = found.by_direction.get(direction, 0) + sign
    order: dict[str | None, int] = {carrier.name: position for position, carrier in enumerate(carriers)}
    return sorted(totals.values(), key=lambda t: (order.get(t.carrier, len(order)), t.carrier or ""))
