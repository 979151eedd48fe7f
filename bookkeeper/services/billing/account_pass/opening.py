"""Opening a billing period, as the billing rules order it: check the funds (prepay accounts),
cancel the reseller's cancellable services when they fall short, write the period marker (the
opening balance, the items, and the very entries decided, status "opening"), debit them, then
mark the period open. A pass cut short between the marker and "open" is finished by the next
pass from the entries the marker holds, never decided again from what the account has become.

A period whose charges the account still cannot cover stays pending: nothing is debited, the
account is delinquent, and the next pass after a payment opens it. Once a period is open, later
passes charge only what grew since (the high-water marks).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from bookkeeper.domain.charges import Charge, month_prefix
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import period_schemes
from bookkeeper.domain.periods import Period
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities, without
from bookkeeper.domain.recurring import opening_charges
from bookkeeper.domain.standing_words import item_in
from bookkeeper.ports import Conflict, NotFound
from bookkeeper.services.billing.account_docs import cancel_limits
from bookkeeper.services.billing.account_pass.growth import (
    daily_fees,
    day_start,
    first_day,
    first_day_holdings,
    growth,
    held_when_began,
    period_entries,
)
from bookkeeper.services.billing.account_pass.inputs import PassInputs
from bookkeeper.services.billing.account_pass.outcome import StepOutcome
from bookkeeper.services.billing.account_pass.pass_ledger import PassLedger
from bookkeeper.services.billing.events import BillingEvent, EventName

OPEN, PENDING, OPENING = "open", "pending", "opening"
MARKER_ATTEMPTS = 3


def marker_id(period: Period) -> str:
    return f"{month_prefix(period.start)}-kazbill-period-{period.key}"


def open_or_resume(inputs: PassInputs, ledger: PassLedger, period: Period, monthly: list[ItemPrice]) -> StepOutcome:
    """Opens or resumes the period itself when needed; the outcome's charges are what the pass
    still has to write (mid-period increases), its events what the opening did (its entries
    are written here, as the marker decided them), and `unpaid_charges` is set when the period
    is left pending for lack of funds."""
    db = inputs.book.month_db(inputs.account_id, (period.start.year, period.start.month), create=True)
    quantities = inputs.quantities
    so_far = StepOutcome()  # what a pass that lost the race to decide did before it lost (a cancellation)
    for _ in range(MARKER_ATTEMPTS):
        marker = _marker(inputs, db, period)
        if marker is not None and marker.get("status") == OPENING:
            marker, finished = _finish_opening(inputs, ledger, db, marker, period)
            so_far = so_far.then(finished)
        if marker is not None and marker.get("status") == OPEN:
            return so_far.then(StepOutcome(growth(inputs, period, quantities)))
        if marker is not None and not period.contains(inputs.present):
            # Pending, and over: its days went by unpaid (the account was delinquent, perhaps
            # blocked). A payment opens the period it falls in, never one that has ended, and a
            # replay of that period's days must not either.
            return so_far
        if marker is not None:  # pending: open it once the money is there
            # A new account's first period stays prorated however late its first payment comes.
            prorate = _prorated(inputs, period)
            # What its days were charged by the day while it was pending stays daily (period_schemes).
            kept = period_schemes(period_entries(inputs, period), period)
            monthly = inputs.prices(quantities, kept)[0] if kept else monthly
            charges = opening_charges(period, inputs.today, monthly, prorate=prorate)
            due = sum(inputs.context.reseller.debited(charge.amount) for charge in charges)
            if not ledger.funds_suffice(due):
                return so_far.then(StepOutcome(unpaid_charges=due))
            decided = _decide(
                inputs,
                db,
                {
                    **marker,
                    "status": OPEN,
                    "opened_on": inputs.today.isoformat(),
                    "items": _items(monthly),
                    "prorated": prorate,
                },
                charges,
            )
            if decided is not None:
                return so_far.then(_finish_opening(inputs, ledger, db, decided, period, resumed=True)[1])
        else:
            opened, outcome = _open(inputs, ledger, period, quantities, db)
            so_far = so_far.then(outcome)
            if opened:
                return so_far  # the opening decided everything up to now, growth included
        # Another pass decided first (its marker conflicted with ours): go on from its decision.
    raise Conflict(db, marker_id(period))


def _marker(inputs: PassInputs, db: str, period: Period) -> dict[str, Any] | None:
    try:
        return inputs.store.get(db, marker_id(period))
    except NotFound:
        return None


def _decide(inputs: PassInputs, db: str, marker: dict[str, Any], charges: list[Charge]) -> dict[str, Any] | None:
    """Records the decision before any of its debits is written (the billing rules' order: the
    marker first): a pending period as such, an opening with the very entries to write, so a
    pass cut short anywhere after this is finished by the next one exactly as decided, whatever
    the account has become meanwhile. None when another pass wrote the marker first."""
    if marker["status"] == OPEN:
        marker = {**marker, "status": OPENING, "opening_entries": inputs.ledger_entries(charges)}
    [result] = inputs.store.bulk_put(db, [marker])
    return {**marker, "_rev": result.rev} if result.ok else None


def _finish_opening(
    inputs: PassInputs, ledger: PassLedger, db: str, marker: dict[str, Any], period: Period, *, resumed: bool = False
) -> tuple[dict[str, Any], StepOutcome]:
    """Writes the decided entries not yet written (ids decided, so a replay writes nothing),
    then marks the period open. Either step may be repeated by a later pass."""
    events: list[BillingEvent] = []
    if marker.get("status") == OPENING:
        opened_on = date.fromisoformat(marker["opened_on"])
        events += ledger.write_entries(marker.get("opening_entries", []), (opened_on.year, opened_on.month))
        marker = {key: value for key, value in marker.items() if key != "opening_entries"}
        marker["status"] = OPEN
        with contextlib.suppress(Conflict):  # another pass finished it meanwhile: the same entries, the same marker
            inputs.store.put(db, marker)
        events.append(
            _period_event(
                inputs,
                "period_opened",
                period,
                opening_balance=marker.get("opening_balance", 0),
                **({"resumed": True} if resumed else {}),
            )
        )
    return marker, StepOutcome(events=events)


def _period_event(inputs: PassInputs, name: EventName, period: Period, **details: Any) -> BillingEvent:
    return BillingEvent(
        name,
        inputs.account_id,
        {"period_start": period.start.isoformat(), "period_end": period.end.isoformat(), **details},
    )


def _prorated(inputs: PassInputs, period: Period) -> bool:
    """The account joined during this period and its reseller prorates new accounts."""
    created = first_day(inputs)
    return period.start < created <= period.end and inputs.context.reseller.prorate_new_accounts


def _open(
    inputs: PassInputs, ledger: PassLedger, period: Period, quantities: Quantities, db: str
) -> tuple[bool, StepOutcome]:
    """Opens the period or leaves it PENDING for lack of funds; False when another pass decided
    first (the outcome then holds only what was done before: a cancellation). A period opens
    with what the account held when the period began, however late the pass that opens it (the
    service away at midnight, a change seen before the day's crawl); an account younger than its
    period opens on the day it was created, with the most it held that day. What changed since is
    charged from the moment each change happened."""
    context, prorate = inputs.context, _prorated(inputs, period)
    created = first_day(inputs)  # its creation, or the day after its trial expired
    # An older account's period is opened by whichever pass comes first (on time, the crawl of
    # its first day); a young one's first days are charged from the day it was created.
    opening_day = inputs.today if created < period.start else max(period.start, min(created, inputs.today))
    now = quantities
    quantities = (
        held_when_began(inputs, period.start, quantities)
        if created < period.start
        else first_day_holdings(inputs, opening_day, quantities)
    )
    monthly = inputs.prices(quantities)[0]
    charges = opening_charges(period, opening_day, monthly, prorate=prorate)
    opening_balance = ledger.balance()
    cancelled: list[tuple[str, str]] = []
    status = OPEN
    unpaid: int | None = None  # what the opening would debit, when it is left pending
    events: list[BillingEvent] = []
    debited = context.reseller.debited  # the price, and a netto reseller's VAT on top
    if context.account.payment_type == "prepay" and not ledger.funds_suffice(sum(debited(c.amount) for c in charges)):
        cancelled = [(p.category, p.item) for p in monthly if (p.category, p.item) in context.reseller.cancellable]
        if cancelled:
            events.append(_cancel(inputs, cancelled, monthly))
            monthly = inputs.prices(without(quantities, cancelled))[0]
            charges = opening_charges(period, inputs.today, monthly, prorate=prorate)
        if not ledger.funds_suffice(sum(debited(c.amount) for c in charges)):
            unpaid = sum(debited(c.amount) for c in charges)
            status, charges = PENDING, []
    if status == OPEN:
        charges += growth(inputs, period, now, entries=inputs.ledger_entries(charges), cancelled=cancelled)
    marker = {
        "_id": marker_id(period),
        "pvt_type": "kazbill_period",
        "status": status,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "opened_on": inputs.today.isoformat(),
        "opening_balance": opening_balance,
        "prorated": prorate,
        "items": _items(monthly),
        "cancelled": [list(item) for item in cancelled],
        "pvt_account_id": inputs.account_id,
        "pvt_account_db": account_modb(inputs.account_id, period.start.year, period.start.month),
        "pvt_created": inputs.now_gregorian,
        "pvt_modified": inputs.now_gregorian,
    }
    decided = _decide(inputs, db, marker, charges)
    if decided is None:
        return False, StepOutcome(events=events)
    if status == PENDING:
        events.append(_period_event(inputs, "period_pending", period, opening_balance=opening_balance))
        return True, StepOutcome(events=events, unpaid_charges=unpaid)
    return True, StepOutcome(events=events).then(_finish_opening(inputs, ledger, db, decided, period)[1])


def _items(monthly: list[ItemPrice]) -> list[dict[str, Any]]:
    return [
        {"category": p.category, "item": p.item, "quantity": p.billable_quantity, "rate": p.rate, "monthly": p.monthly}
        for p in monthly
    ]


def _cancel(inputs: PassInputs, cancelled: list[tuple[str, str]], prices: list[ItemPrice]) -> BillingEvent:
    cancel_limits(inputs.store, inputs.account_id, cancelled, inputs.now_gregorian)
    # What the plan calls them in the account's language; a plan that names them only in
    # another language gives way to Kazbill's words for trunks (no English in a Russian notice).
    language = inputs.context.account.language
    plan_names = {(p.category, p.item): p.names.get(language) or (p.name if language == "en" else "") for p in prices}
    names = [plan_names.get(item) or item_in(*item, language) for item in cancelled]
    return BillingEvent(
        "services_cancelled", inputs.account_id, {"items": [list(item) for item in cancelled], "names": names}
    )


def settle_previous(inputs: PassInputs, period: Period, missed: Sequence[date] = ()) -> tuple[list[Charge], list[date]]:
    """What the period before `period` still owes for changes made in it that are seen only
    now (a device added on its last evening, seen after the next one opened), and for the
    `missed` days of it no crawl logged (crawl_log.missed_before): charged from their own
    days, into the current month, with the period they belong to in the entry. Returns the
    charges and the missed days they settle. Its changes only when it is open (a pending
    one's opening settles them; one never opened charged nothing); its missed days when it
    was billed at all (a pending period's days are charged by the day all the same)."""
    previous = period.previous()
    if previous.end < first_day(inputs):
        return [], []
    changed = bool(inputs.history.moments(day_start(inputs, previous.start), day_start(inputs, period.start) - 1))
    if not changed and not missed:
        return [], []  # nothing changed in it, no day missed: nothing can be owed
    db = inputs.book.month_db(inputs.account_id, (previous.start.year, previous.start.month), create=False)
    marker = _marker(inputs, db, previous) if db else None
    if marker is None:
        return [], []  # never billed
    settles = changed and marker.get("status") == OPEN
    charges = growth(inputs, previous, inputs.quantities) if settles else []
    if missed or (settles and "daily" in inputs.context.reseller.charging.values()):
        charges += daily_fees(
            inputs, previous, inputs.quantities, price_today=False, missed=missed, touched_days=settles, ended=True
        )
    return charges, list(missed)
