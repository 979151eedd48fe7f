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

from datetime import date
from typing import TYPE_CHECKING, Any

from bookkeeper.domain.charges import Charge, month_prefix
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.periods import Period, local_day_of_gregorian
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities, without
from bookkeeper.domain.recurring import opening_charges
from bookkeeper.ports import Conflict, NotFound
from bookkeeper.services.billing.account_docs import cancel_limits
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.period_growth import daily_fees, day_start, first_day_holdings, growth, held_when_began

if TYPE_CHECKING:  # the run is account_pass._Run; imported for types only, to keep one direction
    from bookkeeper.services.billing.account_pass import _Run

OPEN, PENDING, OPENING = "open", "pending", "opening"
MARKER_ATTEMPTS = 3


def marker_id(period: Period) -> str:
    return f"{month_prefix(period.start)}-kazbill-period-{period.key}"


def open_or_resume(run: "_Run", period: Period, quantities: Quantities, monthly: list[ItemPrice]) -> list[Charge]:
    """The charges the caller still has to write (mid-period increases), after opening or
    resuming the period itself when needed. Sets `run.unpaid_period` when the period is left
    pending for lack of funds."""
    db = run.book.month_db(run.account_id, (period.start.year, period.start.month), create=True)
    for _ in range(MARKER_ATTEMPTS):
        marker = _marker(run, db, period)
        if marker is not None and marker.get("status") == OPENING:
            marker = _finish_opening(run, db, marker, period)
        if marker is not None and marker.get("status") == OPEN:
            return growth(run, period, quantities)
        if marker is not None and not period.contains(run.present):
            # Pending, and over: its days went by unpaid (the account was delinquent, perhaps
            # blocked). A payment opens the period it falls in, never one that has ended, and a
            # replay of that period's days must not either.
            return []
        if marker is not None:  # pending: open it once the money is there
            # A new account's first period stays prorated however late its first payment comes.
            prorate = _prorated(run, period)
            charges = opening_charges(period, run.today, monthly, prorate=prorate)
            if not run.funds_suffice(sum(charge.amount for charge in charges)):
                run.unpaid_period, run.unpaid_charges = True, sum(charge.amount for charge in charges)
                return []
            decided = _decide(run, db, {**marker, "status": OPEN, "opened_on": run.today.isoformat(),
                                        "items": _items(monthly), "prorated": prorate}, charges)
            if decided is not None:
                _finish_opening(run, db, decided, period, resumed=True)
                return []
        elif _open(run, period, quantities, db):
            return []  # the opening decided everything up to now, growth included
        # Another pass decided first (its marker conflicted with ours): go on from its decision.
    raise Conflict(db, marker_id(period))


def _marker(run: "_Run", db: str, period: Period) -> dict[str, Any] | None:
    try:
        return run.ports.store.get(db, marker_id(period))
    except NotFound:
        return None


def _decide(run: "_Run", db: str, marker: dict[str, Any], charges: list[Charge]) -> dict[str, Any] | None:
    """Records the decision before any of its debits is written (the billing rules' order: the
    marker first): a pending period as such, an opening with the very entries to write, so a
    pass cut short anywhere after this is finished by the next one exactly as decided, whatever
    the account has become meanwhile. None when another pass wrote the marker first."""
    if marker["status"] == OPEN:
        marker = {**marker, "status": OPENING, "opening_entries": run.ledger_entries(charges)}
    [result] = run.ports.store.bulk_put(db, [marker])
    return {**marker, "_rev": result.rev} if result.ok else None


def _finish_opening(run: "_Run", db: str, marker: dict[str, Any], period: Period, *,
                    resumed: bool = False) -> dict[str, Any]:
    """Writes the decided entries not yet written (ids decided, so a replay writes nothing),
    then marks the period open. Either step may be repeated by a later pass."""
    if marker.get("status") == OPENING:
        opened_on = date.fromisoformat(marker["opened_on"])
        run.write_entries(marker.get("opening_entries", []), (opened_on.year, opened_on.month))
        marker = {key: value for key, value in marker.items() if key != "opening_entries"}
        marker["status"] = OPEN
        try:
            run.ports.store.put(db, marker)
        except Conflict:  # another pass finished it meanwhile: the same entries, the same marker
            pass
        run.emit("period_opened", period, opening_balance=marker.get("opening_balance", 0),
                 **({"resumed": True} if resumed else {}))
    return marker


def _prorated(run: "_Run", period: Period) -> bool:
    """The account joined during this period and its reseller prorates new accounts."""
    created = local_day_of_gregorian(run.context.account.created, run.context.reseller.timezone)
    return period.start < created <= period.end and run.context.reseller.prorate_new_accounts


def _open(run: "_Run", period: Period, quantities: Quantities, db: str) -> bool:
    """Opens the period or leaves it PENDING for lack of funds; False when another pass decided
    first. A period opens with what the account held when the period began, however late the
    pass that opens it (the service away at midnight, a change seen before the day's crawl);
    an account younger than its period opens on the day it was created, with the most it held
    that day. What changed since is charged from the moment each change happened."""
    context, prorate = run.context, _prorated(run, period)
    created = local_day_of_gregorian(context.account.created, context.reseller.timezone)
    # An older account's period is opened by whichever pass comes first (on time, the crawl of
    # its first day); a young one's first days are charged from the day it was created.
    opening_day = run.today if created < period.start else max(period.start, min(created, run.today))
    now = quantities
    quantities = (held_when_began(run, period.start, quantities) if created < period.start
                  else first_day_holdings(run, opening_day, quantities))
    monthly = run.prices(quantities)[0]
    charges = opening_charges(period, opening_day, monthly, prorate=prorate)
    opening_balance = run.balance()
    cancelled: list[tuple[str, str]] = []
    status = OPEN
    if context.account.payment_type == "prepay" and not run.funds_suffice(sum(charge.amount for charge in charges)):
        cancelled = [(p.category, p.item) for p in monthly if (p.category, p.item) in context.reseller.cancellable]
        if cancelled:
            _cancel(run, cancelled)
            monthly = run.prices(without(quantities, cancelled))[0]
            charges = opening_charges(period, run.today, monthly, prorate=prorate)
        if not run.funds_suffice(sum(charge.amount for charge in charges)):
            run.unpaid_charges = sum(charge.amount for charge in charges)
            status, charges = PENDING, []
    if status == OPEN:
        charges += growth(run, period, now, entries=run.ledger_entries(charges), cancelled=cancelled)
    marker = {
        "_id": marker_id(period), "pvt_type": "kazbill_period", "status": status,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "opened_on": run.today.isoformat(), "opening_balance": opening_balance, "prorated": prorate,
        "items": _items(monthly), "cancelled": [list(item) for item in cancelled],
        "pvt_account_id": run.account_id, "pvt_account_db": account_modb(run.account_id, period.start.year, period.start.month),
        "pvt_created": run.now_gregorian, "pvt_modified": run.now_gregorian,
    }
    decided = _decide(run, db, marker, charges)
    if decided is None:
        return False
    if status == PENDING:
        run.unpaid_period = True
        run.emit("period_pending", period, opening_balance=opening_balance)
        return True
    _finish_opening(run, db, decided, period)
    return True


def _items(monthly: list[ItemPrice]) -> list[dict[str, Any]]:
    return [{"category": p.category, "item": p.item, "quantity": p.billable_quantity, "rate": p.rate,
             "monthly": p.monthly} for p in monthly]


def _cancel(run: "_Run", cancelled: list[tuple[str, str]]) -> None:
    cancel_limits(run.ports.store, run.account_id, cancelled, run.now_gregorian)
    run.events.append(BillingEvent("services_cancelled", run.account_id, {"items": [list(item) for item in cancelled]}))


def settle_previous(run: "_Run", period: Period, quantities: Quantities) -> list[Charge]:
    """What the period before `period` still owes for changes made in it that are seen only
    now (a device added on its last evening, seen after the next one opened): charged from
    their own days, into the current month, with the period they belong to in the entry."""
    previous = period.previous()
    if previous.end < local_day_of_gregorian(run.context.account.created, run.context.reseller.timezone):
        return []
    if not run.history.moments(day_start(run, previous.start), day_start(run, period.start) - 1):
        return []  # nothing changed in it: nothing can have been missed
    db = run.book.month_db(run.account_id, (previous.start.year, previous.start.month), create=False)
    marker = _marker(run, db, previous) if db else None
    if marker is None or marker.get("status") != OPEN:
        return []  # never opened (a new account), or pending: its opening settles it
    charges = growth(run, previous, quantities)
    if "daily" in run.context.reseller.charging.values():
        charges += daily_fees(run, previous, quantities, price_today=False)
    return charges
