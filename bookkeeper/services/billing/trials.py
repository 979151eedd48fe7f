"""Trial accounts: not charged while the trial runs; converted to a full account as soon as
their balance covers a month of their services (the day of conversion becomes the billing
day); when the trial expires without that, told once, their cancellable services cancelled,
and billed like everyone else from then on (which leaves them delinquent until they pay)."""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.plan_pricing import price_services
from bookkeeper.domain.settings import ONBILL_DOC_ID
from bookkeeper.domain.standing import decide_trial
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import cancel_limits, end_trial, update_onbill
from bookkeeper.services.billing.context import BillingContext, billing_quantities
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.ledger_book import LedgerBook


def check_trial(
    store: DocumentStore, book: LedgerBook, context: BillingContext, today: date, now_gregorian: int
) -> tuple[list[BillingEvent], bool]:
    """(events, whether to go on billing the account today)."""
    expires = context.account.trial_expires
    if expires is None:
        return [], True
    account_id = context.account_id
    onbill = store.get_many(account_db(account_id), [ONBILL_DOC_ID]).get(ONBILL_DOC_ID, {})
    quantities = billing_quantities(store, context)
    prices = price_services(context.plan, quantities) if context.plan else []
    monthly_cost = sum(context.reseller.debited(p.monthly) for p in prices)  # VAT on top under netto
    decision = decide_trial(
        trial_expires_day=local_day_of_gregorian(expires, context.reseller.timezone),
        today=today,
        balance=book.current_balance(account_id, now_gregorian),
        monthly_cost=monthly_cost,
        already_expired_notified=bool(onbill.get("trial_expired_notified")),
    )
    if decision.action == "convert":
        update_onbill(store, account_id, {"billing_day": decision.billing_day, "trial_converted_on": today.isoformat()})
        end_trial(store, account_id, now_gregorian)
        return [BillingEvent("trial_converted", account_id, {"billing_day": decision.billing_day})], True
    if decision.action == "expire":
        cancellable = [key for key in context.reseller.cancellable if quantities.get(key[0], {}).get(key[1])]
        events = [BillingEvent("trial_expired", account_id, {"expired_on": today.isoformat()})]
        if cancellable:
            cancel_limits(store, account_id, cancellable, now_gregorian)
            events.append(BillingEvent("services_cancelled", account_id, {"items": [list(k) for k in cancellable]}))
        update_onbill(store, account_id, {"trial_expired_notified": True})
        return events, True
    still_running = today <= local_day_of_gregorian(expires, context.reseller.timezone)
    return [], not still_running
