"""The billing pass, step by step: fix the billing day, settle what the previous period still
owes, open or resume the current one, price the day's fees, write every charge, mark the day
crawled, re-evaluate the standing, remind, and queue an auto top-up. Each step returns its
charges and events; the pass writes the charges and hands the events back in that order."""

from __future__ import annotations

from datetime import date, timedelta

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.crawl_days import days_missed
from bookkeeper.domain.kazoo_months import rollover_id
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import period_schemes
from bookkeeper.domain.notices import daily_reminders
from bookkeeper.domain.periods import Period, period_containing
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import update_doc, update_onbill
from bookkeeper.services.billing.account_pass.growth import daily_fees, day_start, first_day, period_entries
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
    charges = settle_previous(inputs, period)
    opening = open_or_resume(inputs, ledger, period, monthly)
    events += opening.events
    missed = _missed_days(inputs, period)
    charges += opening.charges
    # Opened now, not resumed after pending: none of its days can have been charged by the day.
    opened = any(event.name == "period_opened" and not event.details.get("resumed") for event in opening.events)
    events += ledger.write(charges + _daily(inputs, period, missed, charges, opened=opened))
    if _logs_crawls(inputs):
        _mark_crawled(inputs, missed)
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
    if _logs_crawls(inputs):  # today's log, or the period's first month's (_missed_days reads it)
        wanted.append(_crawl_log_id(period.start))
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
    if inputs.crawl and _crawled(inputs):
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


def _missed_days(inputs: PassInputs, period: Period) -> list[date]:
    """For a daily crawl of a day not crawled yet, the period's days before it that no crawl of
    the account logged (days_missed): their fee is charged now, once, and they are logged with
    the day (priced again at each crawl, a day's quantities the history cannot tell would be
    taken as they are then, and a later rise charged back onto it). The period spans two
    calendar months at most, so two logs. The fees ran from `since` when the account was
    created in the period (its first day's fee is its first pass's), else when `since` or the
    day before it is logged; the latter is read only when the former is not."""
    since = max(period.start, first_day(inputs))
    if not _logs_crawls(inputs) or since >= inputs.today or _crawled(inputs):
        return []
    logged = {day for month_start in _months_of(period.start, inputs.today) for day in _logged(inputs, month_start)}
    created_since = inputs.context.account.created >= day_start(inputs, since)
    return days_missed(
        since=since,
        today=inputs.today,
        logged=logged,
        ran_before=created_since
        or since in logged
        or since - timedelta(days=1) in _logged(inputs, since - timedelta(days=1)),
    )


def _months_of(start: date, end: date) -> list[date]:
    """The first day of each calendar month from `start`'s to `end`'s."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _logged(inputs: PassInputs, day: date) -> set[date]:
    """The days the crawl log of `day`'s month holds (none when its month was never made)."""
    db = inputs.book.month_db(inputs.account_id, (day.year, day.month), create=False)
    if db is None:
        return set()
    log_id = _crawl_log_id(day)
    found = inputs.store.get_many(db, [log_id]).get(log_id) or {}
    return {date.fromisoformat(text) for text in found.get("days", []) if isinstance(text, str)}


def _logs_crawls(inputs: PassInputs) -> bool:
    """Whether a crawl pass keeps the crawl's log of the days it billed. Only daily fees read it
    (_daily: a day crawled again charges no fee), so a reseller charging none keeps none: a
    write less per account and day (on CouchDB one of the ten or so requests of an ordinary
    day, and a write costs the server several times a read). A reseller who starts charging
    daily mid-day has that day's fee charged by the account's next pass, crawl or live, up to
    the day's highest level once (the fee's entries say what the day was charged already)."""
    return inputs.crawl and "daily" in inputs.context.reseller.charging.values()


def _crawl_log_id(today: date) -> str:
    return f"{today.year:04d}{today.month:02d}-kazbill-crawl-log"


def _crawled(inputs: PassInputs) -> bool:
    return inputs.today in _logged(inputs, inputs.today)


def _mark_crawled(inputs: PassInputs, missed: list[date]) -> None:
    """Today, and the missed days charged with it, in their months' logs."""
    for month_start in sorted({day.replace(day=1) for day in [inputs.today, *missed]}):
        days = {day.isoformat() for day in [inputs.today, *missed] if day.replace(day=1) == month_start}
        db = inputs.book.month_db(inputs.account_id, (month_start.year, month_start.month), create=True)
        log_id = _crawl_log_id(month_start)
        log = inputs.store.get_many(db, [log_id]).get(log_id) or {"pvt_type": "kazbill_crawl_log", "days": []}
        if not days <= set(log["days"]):
            update_doc(
                inputs.store,
                db,
                log_id,
                {"days": sorted({*log["days"], *days})},
                default={"pvt_type": "kazbill_crawl_log"},
            )


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
