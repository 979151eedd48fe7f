"""Opening a billing period, as the billing rules order it: check the funds (prepay accounts),
cancel the reseller's cancellable services when they fall short, debit the monthly recurring
charges, then write the period marker with the opening balance and the items charged.

A period whose charges the account still cannot cover stays pending: nothing is debited, the
account is delinquent, and the next pass after a payment opens it. Once a period is open, later
passes charge only what grew since (the high-water marks).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bookkeeper.domain.charges import Charge, month_prefix
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.periods import Period, local_day_of_gregorian
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities, without
from bookkeeper.domain.recurring import opening_charges
from bookkeeper.ports import NotFound
from bookkeeper.services.account_docs import cancel_limits
from bookkeeper.services.events import BillingEvent

if TYPE_CHECKING:  # the run is billing._Run; imported for types only, to keep one direction
    from bookkeeper.services.billing import _Run

OPEN, PENDING = "open", "pending"


def marker_id(period: Period) -> str:
    return f"{month_prefix(period.start)}-kazbill-period-{period.key}"


def open_or_resume(run: "_Run", period: Period, quantities: Quantities, monthly: list[ItemPrice]) -> list[Charge]:
    """The charges the caller still has to write (mid-period increases), after opening or
    resuming the period itself when needed. Sets `run.unpaid_period` when the period is left
    pending for lack of funds."""
    store = run.ports.store
    db = run.book.month_db(run.account_id, (period.start.year, period.start.month), create=True)
    try:
        marker = store.get(db, marker_id(period))
    except NotFound:
        marker = None
    if marker is not None and marker.get("status") == OPEN:
        return [] if run.catching_up else run.increases(period, monthly)
    if marker is not None:  # pending: open it once the money is there
        # A new account's first period stays prorated however late its first payment comes.
        prorate = _prorated(run, period)
        charges = opening_charges(period, run.today, monthly, prorate=prorate)
        if run.funds_suffice(sum(charge.amount for charge in charges)):
            run.write(charges)
            store.put(db, {**marker, "status": OPEN, "opened_on": run.today.isoformat(), "items": _items(monthly),
                           "prorated": prorate})
            run.emit("period_opened", period, resumed=True)
        else:
            run.unpaid_period = True
        return []
    _open(run, period, quantities, monthly, db)
    return []


def _prorated(run: "_Run", period: Period) -> bool:
    """The account joined during this period and its reseller prorates new accounts."""
    created = local_day_of_gregorian(run.context.account.created, run.context.reseller.timezone)
    return period.start < created <= period.end and run.context.reseller.prorate_new_accounts


def _open(run: "_Run", period: Period, quantities: Quantities, monthly: list[ItemPrice], db: str) -> None:
    context, prorate = run.context, _prorated(run, period)
    charges = opening_charges(period, run.today, monthly, prorate=prorate)
    opening_balance = run.balance()
    already_started = bool(run.book.existing_ids(
        run.account_id, [charge.entry_id for charge in charges], (run.today.year, run.today.month), run.current_month))
    cancelled: list[tuple[str, str]] = []
    status = OPEN
    # A pass cut short after writing its charges already took this decision: don't retake it
    # against a balance that now includes them.
    if context.account.payment_type == "prepay" and not already_started and \
            not run.funds_suffice(sum(charge.amount for charge in charges)):
        cancelled = [(p.category, p.item) for p in monthly if (p.category, p.item) in context.reseller.cancellable]
        if cancelled:
            _cancel(run, cancelled)
            monthly = run.prices(without(quantities, cancelled))[0]
            charges = opening_charges(period, run.today, monthly, prorate=prorate)
        if not run.funds_suffice(sum(charge.amount for charge in charges)):
            status, charges = PENDING, []
    run.write(charges)
    run.ports.store.bulk_put(db, [{
        "_id": marker_id(period), "pvt_type": "kazbill_period", "status": status,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "opened_on": run.today.isoformat(), "opening_balance": opening_balance, "prorated": prorate,
        "items": _items(monthly), "cancelled": [list(item) for item in cancelled],
        "pvt_account_id": run.account_id, "pvt_account_db": account_modb(run.account_id, period.start.year, period.start.month),
        "pvt_created": run.now_gregorian, "pvt_modified": run.now_gregorian,
    }])
    run.unpaid_period = status == PENDING
    run.emit("period_opened" if status == OPEN else "period_pending", period, opening_balance=opening_balance)


def _items(monthly: list[ItemPrice]) -> list[dict[str, Any]]:
    return [{"category": p.category, "item": p.item, "quantity": p.billable_quantity, "rate": p.rate,
             "monthly": p.monthly} for p in monthly]


def _cancel(run: "_Run", cancelled: list[tuple[str, str]]) -> None:
    cancel_limits(run.ports.store, run.account_id, cancelled, run.now_gregorian)
    run.events.append(BillingEvent("services_cancelled", run.account_id, {"items": [list(item) for item in cancelled]}))
