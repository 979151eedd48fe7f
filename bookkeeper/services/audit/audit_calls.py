"""The calls part of `kazbill audit`. Kazoo records every call in a CDR in the placing account's
monthly database; each answered call to a carrier must be debited once at every level of the
reseller chain whose reseller has a rate deck (the customer at its reseller's deck, a
sub-reseller at its parent's), and every per-minute debit Kazbill holds for a call placed in the
audited scope must have its CDR. A difference is a call lost (missing), charged twice or without
a call (unexpected), or charged at another price (amount).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from bookkeeper.domain.added_vat import net_of
from bookkeeper.domain.audit import Difference
from bookkeeper.domain.calls import CallRecordError, FinishedCall, call_entry_id, call_from_cdr
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.rating import call_cost
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import BillingContext, BillingInputError, load_context
from bookkeeper.services.billing.ledger_book import months_from
from bookkeeper.services.rating.call_rating import deck_of

CALL_ASSUMPTIONS = (
    "calls are rated at each reseller's deck as it is now (a deck changed since shows as 'amount')",
    "a call Kazoo's jonny5 debited itself, or whose leg says jonny5 debits it, is not expected from Kazbill",
)
_Month = tuple[int, int]


@dataclass
class _Months:
    """What an account's monthly databases of the audited months hold for the calls audit, read
    once: its billable calls (each once: Kazoo may keep more than one CDR of a leg), Kazbill's
    per-minute debits (entry id, who placed the call, its day, the signed amount; one id in two
    months' databases is two debits) and the calls Kazoo's jonny5 debited itself (as the
    kazbill_ledgers/calls_by_id view tells them apart)."""

    calls: dict[str, FinishedCall] = field(default_factory=dict)
    debits: list[tuple[str, str | None, str, int]] = field(default_factory=list)
    kazoo_debited: set[str] = field(default_factory=set)


class _CallsAudit:
    def __init__(self, ports: BillingPorts, months: list[_Month]):
        self.ports, self.months = ports, months
        self._contexts: dict[str, BillingContext | None] = {}
        self._read: dict[str, _Months] = {}

    def months_of(self, account_id: str) -> _Months:
        if account_id not in self._read:
            self._read[account_id] = _read_months(self.ports.store, account_id, self.months)
        return self._read[account_id]

    def context(self, account_id: str) -> BillingContext | None:
        if account_id not in self._contexts:
            try:
                self._contexts[account_id] = load_context(self.ports.store, account_id, closed_too=True)
            except BillingInputError:
                self._contexts[account_id] = None  # the rating refused its calls too, and recorded why
        return self._contexts[account_id]

    def expected_debits(self, call: FinishedCall) -> Iterator[tuple[str, date, str, int]]:
        """(payer, the call's day there, entry id, amount) up the reseller chain, as call_rating
        charges them."""
        account_id, jonny5 = call.account_id, None
        while (context := self.context(account_id)) is not None and context.billable:
            jonny5 = call.jonny5_payers(context.reseller_id) if jonny5 is None else jonny5
            deck = context.account.rate_deck
            rate = (
                deck_of(self.ports.store, context.reseller_id, deck).find(call.number, call.direction)
                if deck and account_id not in jonny5
                else None
            )
            if rate is not None and call.call_id not in self.months_of(account_id).kazoo_debited:
                day = local_day_of_gregorian(call.ended_gregorian, context.reseller.timezone)
                cost = call_cost(rate, call.billing_seconds).amount
                if cost:
                    yield account_id, day, call_entry_id(day, call.call_id), cost
            if context.reseller_id in (context.master_id, account_id):
                return
            account_id = context.reseller_id


def audit_calls(
    ports: BillingPorts, account_ids: Iterable[str], first_day: date, last_day: date
) -> dict[str, list[Difference]]:
    """{paying account: differences} for the calls the accounts in scope placed between the two
    (reseller-local) days, both included. A payer above the scope is audited for those calls only."""
    scope = set(account_ids)
    # A call's day is its reseller's local day: its CDR may sit in the month before or after.
    audit = _CallsAudit(ports, months_from(_month(first_day - timedelta(days=1)), _month(last_day + timedelta(days=1))))
    wanted: dict[str, dict[str, int]] = {}
    for account_id in sorted(scope):
        for call in audit.months_of(account_id).calls.values():
            for payer, day, entry_id, amount in audit.expected_debits(call):
                if first_day <= day <= last_day:
                    wanted.setdefault(payer, {})[entry_id] = -amount
    found: dict[str, list[Difference]] = {}
    for payer in sorted(scope | wanted.keys()):
        held: dict[str, int] = {}
        for entry_id, placed_by, iso_day, amount in audit.months_of(payer).debits:
            if placed_by in scope and first_day.isoformat() <= iso_day <= last_day.isoformat():
                held[entry_id] = held.get(entry_id, 0) + amount
        want = wanted.get(payer, {})
        differences = [
            Difference(
                entry_id,
                "missing" if held.get(entry_id) is None else "unexpected" if want.get(entry_id) is None else "amount",
                want.get(entry_id),
                held.get(entry_id),
            )
            for entry_id in sorted(want.keys() | held.keys())
            if want.get(entry_id) != held.get(entry_id)
        ]
        if differences:
            found[payer] = differences
    return found


def _month(day: date) -> _Month:
    return day.year, day.month


# jonny5's source in 4.3 (j5_per_minute.erl:124), and the 4.2-style names.
PER_MINUTE_SERVICES = ("per-minute-voip", "per_minute_call", "sub_account_per_minute_call")


def _read_months(store: DocumentStore, account_id: str, months: list[_Month]) -> _Months:
    read = _Months()
    for year, month in months:
        try:
            rows = store.all_docs(account_modb(account_id, year, month), ViewQuery(include_docs=True)).rows
        except DatabaseNotFound:
            continue
        for row in rows:
            doc = row.doc or {}
            if doc.get("pvt_type") == "cdr":
                try:
                    call = call_from_cdr(doc)
                except CallRecordError:
                    continue  # the changes bridge stored it as poison; no charge is expected from it
                if call and call.offnet and call.billing_seconds > 0:
                    read.calls.setdefault(call.call_id, call)
            elif doc.get("pvt_type") == "ledger" and not doc.get("pvt_deleted"):
                kazbill = (doc.get("metadata") or {}).get("kazbill")
                meta = kazbill if isinstance(kazbill, dict) else {}
                source = doc.get("source") or {}
                if not (kazbill or isinstance(kazbill, dict)) and source.get("service") in PER_MINUTE_SERVICES:
                    read.kazoo_debited.add(source.get("id") or "")
                elif row.id is not None and "-kazbill-call-" in row.id:
                    net = net_of(doc)  # the rate's cost; a netto reseller's VAT is on top of it
                    signed = -net if doc.get("pvt_ledger_type") == "debit" else net
                    read.debits.append(
                        (row.id, (meta.get("call") or {}).get("placed_by"), str(meta.get("day", "")), signed)
                    )
    return read
