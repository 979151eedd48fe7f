"""The billing pass, step by step: fix the billing day, settle what the previous period still
owes, open or resume the current one, price the day's fees, write every charge, mark the day
crawled, re-evaluate the standing, remind, and queue an auto top-up. Each step returns its
charges and events; the pass writes the charges and hands the events back in that order."""

from __future__ import annotations

from datetime import date, timedelta

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.kazoo_months import rollover_id
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import period_schemes
from bookkeeper.domain.notices import daily_reminders
from bookkeeper.domain.periods import Period, period_containing
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import update_onbill
from bookkeeper.services.billing.account_pass.crawl_log import (
    crawl_log_id,
    crawled,
    logs_crawls,
    mark_crawled,
    missed_before,
    missed_days,
)
from bookkeeper.services.billing.account_pass.growth import daily_fees, period_entries
from bookkeeper.services.billing.account_pass.inputs import BillingPorts, PassInputs
from bookkeeper.services.billing.account_pass.opening import marker_id, open_or_resume, settle_previous
from bookkeeper.services.billing.account_pass.pass_ledger import PassLedger
from bookkeeper.services.billing.account_pass.standing import reevaluate_standing
from bookkeeper.services.billing.account_pass.summary import note_pass_summary
from bookkeeper.services.billing.context import BillingContext, billing_quantities
from bookkeeper.services.billing.events import REMINDER_EVENTS, BillingEvent
from bookkeeper.services.billing.ledger_book import LedgerBook, utc_month
from bookkeeper.services.billing.low_balance_spells import low_balance_warning
from bookkeeper.services.billing.pass_reads import prefetch
from bookkeeper.services.billing.topup_requests import request_if_due


def run_pass(
    ports: BillingPorts,
    context: BillingContext,
    book: LedgerBook,
    *,
    today: date,
    present: date,
    now_gregorian: int,
    crawl: bool,
) -> list[BillingEvent]:
    """Bills the account for `today` (the day billed; `present` is today in the reseller's time
    zone, later when a crawl catches up); returns the events, in the order they happened."""
    billing_day, events = fix_billing_day(ports.store, context)
    period = period_containing(billing_day, today)
    inputs = PassInputs(
        ports,
        context,
        book,
        today=today,
        present=present,
        now_gregorian=now_gregorian,
        quantities=billing_quantities(ports.store, context),
        crawl=crawl,
        period_start=period.start,
    )
    ledger = PassLedger(inputs)
    monthly = inputs.prices(inputs.quantities)[0]
    _prefetch_period_month(inputs, period)
    checked_before = missed_before(inputs, period)
    charges, missed_before_period = settle_previous(inputs, period, checked_before or [])
    opening = open_or_resume(inputs, ledger, period, monthly)
    events += opening.events
    missed = missed_days(inputs, period, also_logged=missed_before_period)
    charges += opening.charges
    # Opened now, not resumed after pending: none of its days can have been charged by the day.
    opened = any(event.name == "period_opened" and not event.details.get("resumed") for event in opening.events)
    events += ledger.write(charges + _daily(inputs, period, missed, charges, opened=opened))
    if logs_crawls(inputs):
        mark_crawled(inputs, period, [*missed_before_period, *missed], checked_before=checked_before is not None)
    events += reevaluate_standing(inputs, ledger, opening.unpaid_charges)
    if crawl and not inputs.catching_up:  # a reminder about a day gone by helps no one
        events += _reminders(inputs, ledger, period, monthly)
    # After any debit and in the crawl: below the auto top-up threshold, the card is charged
    # later, by the mailer's pass, never here on the event path.
    if request_if_due(ports.store, context.account_id, ledger.balance(), today, now_gregorian):
        events.append(BillingEvent("topup_queued", context.account_id, {"balance": ledger.balance()}))
    wrote = any(event.name == "charged" for event in events)  # money may have moved with no change of balance
    note_pass_summary(inputs, ledger.balance(), monthly, wrote=wrote)  # what a reseller's customer list shows
    return events


def _prefetch_period_month(inputs: PassInputs, period: Period) -> None:
    """What the pass reads of its period's monthly database, one document at a time (the
    period's marker; the crawl's log and Kazoo's rollover when they are kept there too), in one
    request: two or three on CouchDB otherwise. Nothing for a month not made yet (the pass knows
    which exist; its steps make it)."""
    month = (period.start.year, period.start.month)
    db = account_modb(inputs.account_id, *month)
    if not inputs.store.database_exists(db):
        return
    wanted = [marker_id(period)]
    if logs_crawls(inputs):  # today's log, or the period's first month's (missed_days reads it)
        wanted.append(crawl_log_id(period.start))
    if utc_month(inputs.now_gregorian) == month:
        wanted.append(rollover_id(month))
    prefetch(inputs.store, db, wanted)


def fix_billing_day(store: DocumentStore, context: BillingContext) -> tuple[int, list[BillingEvent]]:
    """The billing day is stored on the account's onbill when it is first billed, and never
    reset afterwards (onbill reset it to "today" whenever settings were saved)."""
    account = context.account
    if account.stored_billing_day is not None:
        return account.billing_day, []
    update_onbill(store, context.account_id, {"billing_day": account.billing_day})
    return account.billing_day, [
        BillingEvent("billing_day_fixed", context.account_id, {"billing_day": account.billing_day})
    ]


def _daily(
    inputs: PassInputs, period: Period, missed: list[date], written: list[Charge], *, opened: bool
) -> list[Charge]:
    # A crawl of a day already crawled (a duplicate, a late replay) charges no daily fee:
    # the day was priced at its start, and what changed since is priced by the live passes.
    if "daily" not in inputs.context.reseller.charging.values() and (opened or not _kept_daily(inputs, period)):
        return []
    if inputs.crawl and crawled(inputs):
        return []
    return daily_fees(inputs, period, inputs.quantities, price_today=True, missed=missed, written=written)


def _kept_daily(inputs: PassInputs, period: Period) -> bool:
    """Whether the period has been charging a category by the day that its reseller has since
    switched to monthly (ledger.period_schemes: it stays daily to the period's end). As growth
    found it from the entries it read (a read more of every pass of a monthly reseller's
    account, else); read when growth did not run (a pending period), never in the pass that
    opened the period (none of its days can be daily yet)."""
    schemes = inputs.book.schemes.get(period.start)
    if schemes is None:
        schemes = period_schemes(period_entries(inputs, period), period)
    return "daily" in schemes.values()


def _reminders(inputs: PassInputs, ledger: PassLedger, period: Period, monthly: list[ItemPrice]) -> list[BillingEvent]:
    next_period_cost = sum(inputs.context.reseller.debited(price.monthly) for price in monthly)
    drafts = daily_reminders(
        today=inputs.today,
        next_period_start=period.end + timedelta(days=1),
        balance=ledger.balance(),
        credit_line=inputs.context.credit_line,
        next_period_cost=next_period_cost,
    )
    drafts += low_balance_warning(inputs.store, inputs.context, inputs.today, ledger.balance(), next_period_cost > 0)
    return [
        BillingEvent(REMINDER_EVENTS[draft.kind], inputs.account_id, {"day": draft.day.isoformat(), **draft.details})
        for draft in drafts
    ]
