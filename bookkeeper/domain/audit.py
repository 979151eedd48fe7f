"""The audit: what an account should have been charged over a range of days, recomputed from
its history of quantities, and every difference from what its ledger holds.

The recomputation walks the days as the bookkeeper does (each period opens on its first day
with the quantities the day starts with; each change during a day is charged as it happens;
daily fees start each day at the day's first quantities), using the same pricing and
proration rules, so that a ledger the bookkeeper wrote audits clean, and one that lost, doubled
or changed an entry shows exactly which. It assumes every period was paid: a period left
pending for lack of funds shows its charges as missing, which is what a reseller should see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bookkeeper.domain.added_vat import net_of
from bookkeeper.domain.charges import Charge
from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.domain.periods import Period, period_containing
from bookkeeper.domain.plan_pricing import price_services
from bookkeeper.domain.plans import ItemPrice, ServicePlan
from bookkeeper.domain.quantities import Quantities
from bookkeeper.domain.recurring import decrease_credit, increase_charges, opening_charges

Timeline = Sequence[tuple[date, Quantities]]  # quantities from that day on; several per day = in order


@dataclass(frozen=True)
class Difference:
    entry_id: str
    kind: str  # "missing", "unexpected", "amount"
    expected: int | None
    actual: int | None


@dataclass(frozen=True)
class AuditRules:
    plan: ServicePlan
    scheme_for: Callable[[str], str]
    billing_day: int
    created_day: date  # the first day billed (standing.first_billed_day): a trial's days are not
    prorate_new_accounts: bool
    prorated_credits: bool
    # By period start, how the period has been charging each category it charged
    # (ledger.period_schemes): a period keeps the way it began to, whatever the reseller's
    # setting says now. A category a period has not charged goes by `scheme_for`.
    kept: Mapping[date, Mapping[str, str]] = field(default_factory=dict)


def _split(rules: AuditRules, quantities: Quantities, period: Period) -> tuple[dict, dict]:
    prices = price_services(rules.plan, quantities)
    kept = rules.kept.get(period.start, {})
    monthly = {
        (p.category, p.item): p for p in prices if kept.get(p.category, rules.scheme_for(p.category)) == "monthly"
    }
    daily = {(p.category, p.item): p for p in prices if (p.category, p.item) not in monthly}
    return monthly, daily


class _Simulation:
    def __init__(self, rules: AuditRules):
        self.rules = rules
        self.charges: list[Charge] = []
        self.opened: set[date] = set()
        self.levels: dict[tuple[date, tuple[str, str]], ItemPrice] = {}  # per period start, item
        self.rounds: dict[tuple[date, tuple[str, str]], int] = {}
        self.day_levels: dict[tuple[str, str], ItemPrice] = {}

    def start_day(self, day: date, quantities: Quantities) -> None:
        period = period_containing(self.rules.billing_day, day)
        self.day_levels = {}
        if period.start not in self.opened:
            self.opened.add(period.start)
            monthly, _ = _split(self.rules, quantities, period)
            joined = period.start < self.rules.created_day <= period.end
            opening = opening_charges(
                period, day, list(monthly.values()), prorate=joined and self.rules.prorate_new_accounts
            )
            self.charges += opening
            for key, price in monthly.items():
                self.levels[(period.start, key)] = price
            self.change(day, quantities, period, mrc=False)
        else:
            self.change(day, quantities, period)

    def change(self, day: date, quantities: Quantities, period: Period | None = None, mrc: bool = True) -> None:
        period = period or period_containing(self.rules.billing_day, day)
        monthly, daily = _split(self.rules, quantities, period)
        if mrc:
            self._mrc(day, period, monthly)
        for key, price in daily.items():
            charge = daily_fee_charge(period, day, price, self.day_levels.get(key))
            if charge:
                self.charges.append(charge)
                self.day_levels[key] = price

    def _mrc(self, day: date, period: Period, monthly: Mapping[tuple[str, str], ItemPrice]) -> None:
        rules = self.rules
        for (start, key), charged in list(self.levels.items()):
            if start != period.start or key in monthly and monthly[key].billable_quantity >= charged.billable_quantity:
                continue
            item = rules.plan.item(*key)
            if rules.prorated_credits or (item and item.prorate_removals):
                now = monthly.get(key) or ItemPrice(key[0], key[1], charged.name, 0, 0, None, 0, 0, 0, 0)
                credit = decrease_credit(period, day, now, charged, round_=self.rounds.get((start, key), 0))
                if credit:
                    self.charges.append(credit)
                    self.rounds[(start, key)] = self.rounds.get((start, key), 0) + 1
                    self.levels[(start, key)] = now
        for key, price in monthly.items():
            item = rules.plan.item(*key)
            level = self.levels.get((period.start, key))
            new = increase_charges(
                period,
                day,
                price,
                level,
                prorate=item.prorate_additions if item else True,
                round_=self.rounds.get((period.start, key), 0),
            )
            self.charges += new
            if new:
                self.levels[(period.start, key)] = price


def expected_charges(rules: AuditRules, timeline: Timeline, first_day: date, last_day: date) -> list[Charge]:
    """The charges the bookkeeper should have made from `first_day` to `last_day`, both included."""
    ordered = sorted(enumerate(timeline), key=lambda pair: (pair[1][0], pair[0]))
    changes = [entry for _, entry in ordered]
    current: Quantities = {}
    index = 0
    while index < len(changes) and changes[index][0] < first_day:
        current = changes[index][1]
        index += 1
    simulation = _Simulation(rules)
    day = first_day
    while day <= last_day:
        todays = []
        while index < len(changes) and changes[index][0] == day:
            todays.append(changes[index][1])
            index += 1
        if day < rules.created_day:  # not billed yet: created later, or a trial's free days
            current = todays[-1] if todays else current
            day += timedelta(days=1)
            continue
        # A change on the day's first moment is what the day starts with only when the crawl
        # saw it; the bookkeeper crawls at the day's start, so changes of the day come after.
        simulation.start_day(day, current)
        for quantities in todays:
            current = quantities
            simulation.change(day, current)
        day += timedelta(days=1)
    return simulation.charges


def compare(expected: Iterable[Charge], entries: Iterable[Mapping]) -> list[Difference]:
    """Every entry the ledger should hold and does not, holds and should not, or holds with
    another amount or direction. Only Kazbill's recurring entries are compared (payments and
    Kazoo's own ledgers are not the audit's business)."""
    wanted = {c.entry_id: (-c.amount if c.ledger_type == "debit" else c.amount) for c in expected}
    held: dict[str, int] = {}
    for entry in entries:
        meta = (entry.get("metadata") or {}).get("kazbill") or {}
        if entry.get("pvt_type") != "ledger" or entry.get("pvt_deleted") or "category" not in meta:
            continue
        net = net_of(entry)  # what the plan priced; a netto reseller's VAT is on top of it
        signed = -net if entry.get("pvt_ledger_type") == "debit" else net
        held[entry["_id"]] = held.get(entry["_id"], 0) + signed
    return _unless_regrouped(_differences(*_by_event(wanted, held), ""))


def _by_event(wanted: Mapping[str, int], held: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Both sides under the ids the ledger holds: an entry's month prefix is the UTC month it
    was written in (kazoo_months.py), which the history cannot know; the event part can."""
    held_ids = {event_part(entry_id): entry_id for entry_id in held}
    return ({held_ids.get(event_part(entry_id), entry_id): amount for entry_id, amount in wanted.items()}, dict(held))


_LEVEL = re.compile(r"-q\d+(-r\d+)?$")


def _unless_regrouped(differences: list[Difference]) -> list[Difference]:
    """Drops the differences of a (period or day, item) whose charges add up all the same. When
    a day's first change reaches the bookkeeper before that day's crawl (the service was down
    over midnight), the day's start level is gone from the documents and the day is charged at
    once at its later level: one entry where the history's walk expects two, for the same money.
    A lost, doubled or mispriced charge changes the sum and stays reported."""
    groups: dict[str, list[Difference]] = {}
    for difference in differences:
        groups.setdefault(_LEVEL.sub("", difference.entry_id), []).append(difference)
    return [
        difference
        for group in groups.values()
        if sum(d.expected or 0 for d in group) != sum(d.actual or 0 for d in group)
        for difference in group
    ]


def _differences(wanted: Mapping[str, int], held: Mapping[str, int], prefix: str) -> list[Difference]:
    """Signed amounts by entry id, wanted against held: what is missing, unexpected or different."""
    differences = []
    for entry_id in sorted(wanted.keys() | held.keys()):
        want, have = wanted.get(entry_id), held.get(entry_id)
        if have is None:
            differences.append(Difference(entry_id, f"{prefix}missing", want, None))
        elif want is None:
            differences.append(Difference(entry_id, f"{prefix}unregistered" if prefix else "unexpected", None, have))
        elif want != have:
            differences.append(Difference(entry_id, f"{prefix}amount", want, have))
    return differences


def compare_postings(
    registrations: Iterable[Mapping], entries: Iterable[Mapping], posting_reasons: Iterable[str]
) -> list[Difference]:
    """Money in and manual corrections: every registered posting (a payment, a refund, a wire
    transfer...) must have its ledger entry with the registered amount and direction, and every
    such entry must have been registered (an entry without one did not come through Kazbill's
    idempotent handler)."""
    reasons = set(posting_reasons)
    wanted = {r["entry_id"]: (-r["amount"] if r.get("ledger_type") == "debit" else r["amount"]) for r in registrations}
    held: dict[str, int] = {}
    for entry in entries:
        meta = (entry.get("metadata") or {}).get("kazbill") or {}
        if entry.get("pvt_type") != "ledger" or entry.get("pvt_deleted") or meta.get("reason") not in reasons:
            continue
        held[entry["_id"]] = -entry["amount"] if entry.get("pvt_ledger_type") == "debit" else entry["amount"]
    return _differences(*_by_event(wanted, held), "posting_")


CAUSES = {
    "missing": "the history calls for this charge and the ledger lacks it (an event lost, a pass cut short)",
    "unexpected": "the ledger holds a charge the history does not call for (doubled, or charged without cause)",
    "amount": "the ledger holds this charge with another amount or direction",
    "posting_missing": "a registered payment or correction has no ledger entry (a posting cut short)",
    "posting_unregistered": "a payment-type entry that no registration explains (written around Kazbill's handler)",
    "posting_amount": "a payment's entry differs from its registration",
    "rollover": "the month's rollover (and its corrections) does not carry the total of the month it closes: "
    "an entry written into that month after it was rolled over is in no balance",
}
