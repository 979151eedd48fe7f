"""Charging a finished call: to the account that placed it at its reseller's rate deck, and up
the reseller chain, each reseller charged by its own reseller at that reseller's deck and in its
currency. Then a pass over the account: a debit that drops it below its floor blocks it (the
balance guard of the standing rules), a later payment lifts the block.

Kazoo's own jonny5 debits per-minute calls itself at the levels its authorisation put on
per-minute billing (a `per-minute-voip` ledger whose source.id is the Call-ID:
j5_per_minute.erl:119-135 in 4.3). Such a level is never charged by Kazbill as well: not when the
leg says jonny5 will debit it (bookkeeper.domain.calls.jonny5_levels: jonny5 writes 1-3 s after
the hang-up, after Kazbill has usually rated the event), and not when the debit is found. A call
no rate matches is not free: it is recorded for the operator (`kazbill_failures`, reason
`unrated_call`) and reported in the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from bookkeeper.domain.added_vat import netto_rate, with_vat
from bookkeeper.domain.calls import FinishedCall, call_entry_id
from bookkeeper.domain.charges import DEBIT, REASON_CODES
from bookkeeper.domain.kazoo_ledger import kazoo_ledger
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.ledger import PER_MINUTE_SOURCE
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.rating import Rate, RateDeck, call_cost
from bookkeeper.ports import DocumentStore, ViewQuery, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.context import BillingContext, load_or_refuse
from bookkeeper.services.billing.events import BillingEvent, EventName
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, previous_month, utc_month
from bookkeeper.services.billing.pass_reads import PassReads
from bookkeeper.services.rating.rate_decks import active_deck, load_active
from bookkeeper.services.setup.failures import record_failure


@dataclass
class _CachedDeck:
    key: str
    deck: RateDeck


_DECKS: dict[tuple[str, str], _CachedDeck] = {}  # per process: a 100,000-rate deck takes seconds to load


def deck_of(store: DocumentStore, reseller_id: str, name: str) -> RateDeck:
    """The deck calls are rated from now (the version its pointer names), reloaded only when the
    pointer has moved since it was last read."""
    active = active_deck(store, reseller_id, name)
    if active is None:
        return RateDeck([])
    cached = _DECKS.get((reseller_id, name))
    if cached is None or cached.key != active.key:
        key, deck = load_active(store, reseller_id, name)
        cached = _DECKS[(reseller_id, name)] = _CachedDeck(key or "", deck)
    return cached.deck


def bill_call(ports: BillingPorts, call: FinishedCall) -> list[BillingEvent]:
    """Charge the call, then re-evaluate the standing of every account it took money from."""
    events, debited = charge_call(ports, call)
    return events + [event for account_id in debited for event in reconcile_account(ports, account_id)]


def charge_call(ports: BillingPorts, call: FinishedCall) -> tuple[list[BillingEvent], list[str]]:
    """The call's debits, level by level up the reseller chain, and the accounts debited (whose
    standing the caller re-evaluates: once per call, or once per batch of calls)."""
    if not call.offnet or call.billing_seconds <= 0:
        return [BillingEvent("call_not_billable", call.account_id, {"call_id": call.call_id})], []
    ports = replace(ports, store=PassReads(ports.store))  # each account's documents read once per call
    now = gregorian_now(ports.clock)
    events: list[BillingEvent] = []
    account_id, reason = call.account_id, "per_minute_call"
    charged: list[str] = []
    jonny5: frozenset[str] | None = None  # the accounts jonny5 debits itself, known at the first level
    while True:
        # closed_too: a call's record can come after its account closed (a late CDR, a replay):
        # the call was made, so it is owed, and a replay finds it charged already.
        context = load_or_refuse(
            ports.store,
            account_id,
            source="rating",
            reason_code="bad_billing_input",
            refusal="call_refused",
            payload={"call_id": call.call_id},
            now_gregorian=now,
            closed_too=True,
        )
        if isinstance(context, BillingEvent):
            return events + [context], charged
        if not context.billable:
            break  # the master: no one above bills it
        if jonny5 is None:
            jonny5 = call.jonny5_payers(context.reseller_id)
        level = (
            [BillingEvent("call_left_to_jonny5", account_id, {"call_id": call.call_id})]
            if account_id in jonny5
            else _charge_level(ports, context, call, reason, now)
        )
        events += level
        # A duplicate counts too: after a crash between the debit and the standing pass, the
        # replayed call is what brings the account's standing up to date.
        charged += [account_id] if any(event.name in ("call_charged", "call_duplicate") for event in level) else []
        if context.reseller_id == context.master_id or context.reseller_id == account_id:
            break
        account_id, reason = context.reseller_id, "sub_account_per_minute_call"  # the reseller, as a customer
    return events, charged


@dataclass(frozen=True)
class PlannedDebit:
    """A level's debit for a call, priced but not yet written: written unless the call was
    debited before (by Kazbill, or by jonny5 itself). `entry` None: it costs nothing here."""

    account_id: str
    call_id: str
    day: date
    ended: int
    entry: dict | None


def _charge_level(
    ports: BillingPorts, context: BillingContext, call: FinishedCall, reason: str, now: int
) -> list[BillingEvent]:
    planned = plan_level(ports, context, call, reason, now, lambda reseller, name: deck_of(ports.store, reseller, name))
    if isinstance(planned, BillingEvent):
        return [planned]
    book = LedgerBook(ports.store, ports.design_docs)
    debited_by = _debited_before(book, planned.account_id, planned.day, planned.ended, now, planned.call_id)
    if debited_by is not None:
        return [repeated_call(planned, debited_by)]
    if planned.entry is None:
        return [BillingEvent("call_free", planned.account_id, {"call_id": planned.call_id})]
    written = book.write(planned.account_id, [planned.entry], (planned.day.year, planned.day.month), now)
    return [debit_outcome(planned, charged=bool(written))]


def plan_level(
    ports: BillingPorts,
    context: BillingContext,
    call: FinishedCall,
    reason: str,
    now: int,
    decks: Callable[[str, str], RateDeck],
) -> BillingEvent | PlannedDebit:
    """The level's debit for the call priced from its account's deck (`decks(reseller, name)`),
    or the event that says why there is none (no deck, no rate: the latter recorded for the
    operator)."""
    account_id = context.account_id
    deck_name = context.account.rate_deck
    if deck_name is None:
        return BillingEvent("call_not_rated_here", account_id, {"call_id": call.call_id, "why": "no rate deck"})
    rate = decks(context.reseller_id, deck_name).find(call.number, call.direction)
    if rate is None:
        record_failure(
            ports.store,
            source="rating",
            reason_code="unrated_call",
            field="number",
            reason=f"no rate in {deck_name} for {call.number} ({call.direction})",
            account_id=account_id,
            payload={
                "call_id": call.call_id,
                "number": call.number,
                "deck": deck_name,
                "billing_seconds": call.billing_seconds,
            },
            now_gregorian=now,
        )
        return BillingEvent("call_unrated", account_id, {"call_id": call.call_id, "number": call.number})
    day = local_day_of_gregorian(call.ended_gregorian, context.reseller.timezone)
    cost = call_cost(rate, call.billing_seconds)
    entry = (
        _entry(context, call, rate, cost.amount, cost.billed_seconds, reason, day, now, deck_name)
        if cost.amount
        else None
    )
    return PlannedDebit(account_id, call.call_id, day, call.ended_gregorian, entry)


def repeated_call(planned: PlannedDebit, debited_by: str) -> BillingEvent:
    repeated: EventName = "call_debited_by_kazoo" if debited_by == "kazoo" else "call_duplicate"
    return BillingEvent(repeated, planned.account_id, {"call_id": planned.call_id})


def debit_outcome(planned: PlannedDebit, *, charged: bool) -> BillingEvent:
    assert planned.entry is not None
    outcome: EventName = "call_charged" if charged else "call_duplicate"
    return BillingEvent(
        outcome,
        planned.account_id,
        {"call_id": planned.call_id, "amount": planned.entry["amount"], "entry_id": planned.entry["_id"]},
    )


def _debited_before(book: LedgerBook, account_id: str, day: date, ended: int, now: int, call_id: str) -> str | None:
    """ "kazoo" when jonny5 already debited the call, "kazbill" when Kazbill charged it before.
    Both go into the UTC month they are written in (jonny5: kz_ledger.erl:437-439,601-612;
    Kazbill: the ledger book), which need not be the call's month: a report dated by its receipt
    falls on the other side of a month's end from the one dated by the switch, a late CDR or a
    replay comes months later. So every month from the one before the call to now is looked in,
    as the ledger book looks for an entry written before."""
    first = previous_month(min((day.year, day.month), utc_month(ended)))
    for month in months_from(first, max(first, utc_month(now))):
        db = book.month_db(account_id, month, create=False)
        if db is None:
            continue
        rows = book.store.query_view(db, "kazbill_ledgers", "calls_by_id", ViewQuery(key=call_id, key_is_set=True)).rows
        if rows:
            return "kazoo" if any(row.value == "kazoo" for row in rows) else "kazbill"
    return None


def _entry(
    context: BillingContext,
    call: FinishedCall,
    rate: Rate,
    amount: int,
    billed: int,
    reason: str,
    day: date,
    now: int,
    deck: str,
) -> dict:
    """The call's debit; a netto reseller's VAT on top (bookkeeper.domain.added_vat)."""
    charged, vat = with_vat(amount, netto_rate(context.reseller.vat_disposition, context.reseller.vat_rate))
    return kazoo_ledger(
        call_entry_id(day, call.call_id),
        DEBIT,
        charged,
        description=f"Call to {call.number}"
        if call.direction == "outbound"
        else f"Call from a carrier to {call.number}",
        source={"service": PER_MINUTE_SOURCE, "id": call.call_id},  # Kazoo's name; the level in reason
        usage={"type": "voice", "quantity": billed, "unit": "sec"},
        period={"start": call.ended_gregorian, "end": call.ended_gregorian},
        account_id=context.account_id,
        account_name=context.account_name,
        metadata={
            "kazbill": {
                "reason": reason,
                "code": REASON_CODES[reason],
                "day": day.isoformat(),
                "currency": context.reseller.currency,
                "call": {
                    "number": call.number,
                    "caller": call.caller,
                    "direction": call.direction,
                    "billing_seconds": call.billing_seconds,
                    "billed_seconds": billed,
                    "placed_by": call.account_id,
                },
                "rate": {
                    "deck": deck,
                    "id": rate.rate_id,
                    "name": rate.name,
                    "prefix": rate.prefix,
                    "per_minute_units": str(rate.cost_per_minute),
                    "increment": rate.increment_s,
                    "minimum": rate.minimum_s,
                    "carrier": rate.carrier,
                },
                **({"vat": vat} if vat else {}),
            }
        },
        db=account_db(context.account_id),
        now_gregorian=now,
    )
