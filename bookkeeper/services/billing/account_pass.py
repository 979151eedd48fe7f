"""The bookkeeper's handlers: bill one account now (after a document changed) or for one day
(the daily crawl). Each loads through the ports, asks the domain, writes entries with
deterministic ids, and returns the events it caused for the actors and the notifier.

Running a handler twice, or concurrently with a replay of the same event, changes nothing the
second time: every entry id comes from the business event, the ledger book skips ids already
written, and a period's opening is recorded with its entries before they are written, so a pass
cut short is finished by the next one as it was decided instead of being decided again.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Sequence

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.charges import Charge
from bookkeeper.domain.history import QuantityHistory
from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
from bookkeeper.domain.kazoo_names import account_db, gregorian_of, is_account_id
from bookkeeper.domain.ledger import ledger_document
from bookkeeper.domain.notices import daily_reminders
from bookkeeper.domain.periods import Period, local_day, local_day_of_gregorian, period_containing
from bookkeeper.domain.plans import ItemPrice, PlanError, price_services
from bookkeeper.domain.quantities import Quantities, QuantityError
from bookkeeper.domain.standing import Standing, amount_to_restore, evaluate_standing, funds_check, standing_events
from bookkeeper.ports import Clock, Conflict, DocumentStore, NotFound, gregorian_now
from bookkeeper.services.billing import period_growth, period_opening
from bookkeeper.services.billing.events import REMINDER_EVENTS, STANDING_EVENTS, BillingEvent, EventName
from bookkeeper.services.mail.low_balance_spells import low_balance_warning
from bookkeeper.services.setup.failures import record_failure
from bookkeeper.services.billing.account_docs import set_blocked, update_doc, update_onbill
from bookkeeper.services.billing.context import (
    BillingContext, billing_quantities, load_context, load_or_refuse,
)
from bookkeeper.services.billing.quantity_history import account_history
from bookkeeper.services.billing.ledger_book import HISTORY_DOC, LedgerBook, months_from, previous_month, utc_month
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.services.payments.auto_topup_requests import request_if_due
from bookkeeper.services.mail.notices import drafts_from_events, queue_notices
from bookkeeper.services.billing.trials import check_trial
from bookkeeper.services.billing.pass_reads import PassReads

STANDING_DOC_ID = "kazbill_standing"
STANDING_ATTEMPTS = 3
# What a pass reads of the account's own database, one by one: fetched in one request up front.
ACCOUNT_DOCS_READ = ("onbill", "limits", STANDING_DOC_ID, AUTO_TOPUP_DOC_ID, HISTORY_DOC)


@dataclass(frozen=True)
class BillingPorts:
    store: DocumentStore
    clock: Clock
    design_docs: Sequence[DesignDoc]


def reconcile_account(ports: BillingPorts, account_id: str) -> list[BillingEvent]:
    """After a change to one of the account's documents: bill what changed, today."""
    return _bill(ports, account_id, None)


def crawl_account_day(ports: BillingPorts, account_id: str, day: date) -> list[BillingEvent]:
    """The daily crawl for one account and one (reseller-local) day: opens the period when the
    day starts one, and charges the day's daily fees even when nothing happened."""
    return _bill(ports, account_id, day)


def _bill(ports: BillingPorts, account_id: str, day: date | None) -> list[BillingEvent]:
    reads = PassReads(ports.store)  # the pass reads each document once
    if is_account_id(account_id):
        reads.prefetch(account_db(account_id), ACCOUNT_DOCS_READ)
    ports = replace(ports, store=reads)
    now = ports.clock.now()
    now_gregorian = gregorian_of(now)
    context = load_or_refuse(ports.store, account_id, source="bookkeeper", reason_code="bad_billing_input",
                             refusal="billing_failed", payload={"day": day.isoformat() if day else None},
                             now_gregorian=now_gregorian, closed_too=True)
    if isinstance(context, BillingEvent):
        return [context]
    if not context.billable:
        return []
    if context.closed_gregorian is not None:
        # A crawl catching up a day the account was still open when it began bills that day;
        # nothing after, and a change to a closed account's documents charges nothing and is
        # nobody's mistake (no failure).
        if day is None or day > local_day_of_gregorian(context.closed_gregorian, context.reseller.timezone):
            return [BillingEvent("account_closed", account_id, {"closed": context.closed_gregorian})]
    today_here = local_day(now, context.reseller.timezone)
    today = day or today_here
    if day is not None and day < local_day_of_gregorian(context.account.created, context.reseller.timezone):
        return []  # a catch-up crawl of a day before the account existed: it owes nothing for it
    book = LedgerBook(ports.store, ports.design_docs)
    trial_events, go_on = check_trial(ports.store, book, context, today, now_gregorian)
    if go_on:
        if trial_events and trial_events[0].name == "trial_converted":
            context = load_context(ports.store, account_id)  # its billing day was just fixed
        try:
            trial_events += _Run(ports, context, book, today, now_gregorian, today_here, crawl=day is not None).bill()
        except (QuantityError, PlanError) as error:
            # A document the counting cannot read (a device type that is a list, a trunk count
            # beyond any price): nothing is charged from it, and a person is told which field.
            field = error.field if error.field.startswith("quantities.") else f"quantities.{error.field}"
            record_failure(ports.store, source="bookkeeper", reason_code="bad_billing_input", reason=str(error),
                           payload={"day": day.isoformat() if day else None, "account_id": account_id},
                           account_id=account_id, now_gregorian=now_gregorian, field=field)
            return trial_events + [BillingEvent("billing_failed", account_id, {"field": field, "reason": error.reason})]
    # Queued with the billing itself, whoever asked for it (a change, the crawl, a payment), so
    # a notice can never be lost between the charge and the email; queuing again is a no-op.
    queue_notices(ports.store, account_id, drafts_from_events(trial_events, today).get(account_id, []),
                  now_gregorian)
    return trial_events


@dataclass
class _Run:
    ports: BillingPorts
    context: BillingContext
    book: LedgerBook  # one per pass: it remembers which months it has already carried over
    today: date
    now_gregorian: int
    present: date  # today in the reseller's time zone; `today` is the day billed (a crawl may catch up)
    crawl: bool = False  # a daily crawl pass (else a live reconcile)

    def __post_init__(self) -> None:
        self.events: list[BillingEvent] = []
        self.unpaid_period = False
        self.unpaid_charges = 0  # what the pending period would debit, when one waits for money
        self._balance: int | None = None
        self._quantities: Quantities | None = None
        self._history: QuantityHistory | None = None

    @property
    def account_id(self) -> str:
        return self.context.account_id

    @property
    def catching_up(self) -> bool:
        """Crawling a day that is already over (the service was away when it began)."""
        return self.today < self.present

    def _clock_now(self) -> int:
        return gregorian_now(self.ports.clock)

    @property
    def history(self) -> QuantityHistory:
        """When each of the account's changes happened (read once per pass, when needed)."""
        if self._history is None:
            assert self._quantities is not None
            plan = self.context.plan
            cascading = {category for (category, _), item in plan.items.items() if item.cascade} if plan else set()
            self._history = account_history(self.ports.store, self.account_id, limits=self.context.limits,
                                            now_quantities=self._quantities, now=self.now_gregorian,
                                            cascading=cascading, clock=self._clock_now)
        return self._history

    def bill(self) -> list[BillingEvent]:
        period = period_containing(self._billing_day(), self.today)
        quantities = self._quantities = billing_quantities(self.ports.store, self.context)
        monthly = self.prices(quantities)[0]
        charges = period_opening.settle_previous(self, period, quantities)
        charges += period_opening.open_or_resume(self, period, quantities, monthly)
        charges += self._daily(period, quantities)
        self.write(charges)
        if self.crawl:
            self._mark_crawled()
        self._standing()
        if self.crawl and not self.catching_up:  # a reminder about a day gone by helps no one
            self._remind(period, monthly)
        # After any debit and in the crawl: below the auto top-up threshold, the card is charged
        # later, by the mailer's pass, never here on the event path.
        if request_if_due(self.ports.store, self.account_id, self.balance(), self.today, self.now_gregorian):
            self.events.append(BillingEvent("topup_queued", self.account_id, {"balance": self.balance()}))
        return self.events

    def _crawl_log(self) -> tuple[str, str]:
        db = self.book.month_db(self.account_id, (self.today.year, self.today.month), create=True)
        return db, f"{self.today.year:04d}{self.today.month:02d}-kazbill-crawl-log"

    def _crawled(self) -> bool:
        db, log_id = self._crawl_log()
        log = self.ports.store.get_many(db, [log_id]).get(log_id, {})
        return self.today.isoformat() in log.get("days", [])

    def _mark_crawled(self) -> None:
        db, log_id = self._crawl_log()
        log = self.ports.store.get_many(db, [log_id]).get(log_id) or {"pvt_type": "kazbill_crawl_log", "days": []}
        if self.today.isoformat() not in log["days"]:
            update_doc(self.ports.store, db, log_id, {"days": sorted({*log["days"], self.today.isoformat()})},
                       default={"pvt_type": "kazbill_crawl_log"})

    def _remind(self, period: Period, monthly: list[ItemPrice]) -> None:
        next_period_cost = sum(price.monthly for price in monthly)
        drafts = daily_reminders(today=self.today, next_period_start=period.end + timedelta(days=1),
                                 balance=self.balance(), credit_line=self.context.credit_line,
                                 next_period_cost=next_period_cost)
        drafts += low_balance_warning(self.ports.store, self.context, self.today, self.balance(), next_period_cost > 0)
        for draft in drafts:
            self.events.append(BillingEvent(REMINDER_EVENTS[draft.kind], self.account_id,
                                            {"day": draft.day.isoformat(), **draft.details}))

    # -------------------------------------------------------------- pieces

    def _billing_day(self) -> int:
        """The billing day is stored on the account's onbill when it is first billed, and never
        reset afterwards (onbill reset it to "today" whenever settings were saved)."""
        account = self.context.account
        if account.stored_billing_day is None:
            update_onbill(self.ports.store, self.account_id, {"billing_day": account.billing_day})
            self.events.append(BillingEvent("billing_day_fixed", self.account_id, {"billing_day": account.billing_day}))
        return account.billing_day

    def prices(self, quantities: Quantities) -> tuple[list[ItemPrice], list[ItemPrice]]:
        if self.context.plan is None:
            return [], []
        prices = price_services(self.context.plan, quantities)
        scheme = self.context.reseller.scheme_for
        return ([p for p in prices if scheme(p.category) == "monthly"],
                [p for p in prices if scheme(p.category) == "daily"])

    def period_months(self, period: Period) -> list[tuple[int, int]]:
        """The monthly databases a period's entries can be in: Kazoo's UTC months, from the one
        before its local start (a reseller east of UTC opens its period before UTC's month
        turns) to now."""
        first = previous_month((period.start.year, period.start.month))
        return months_from(first, max(utc_month(self.now_gregorian), (period.end.year, period.end.month)))

    def _daily(self, period: Period, quantities: Quantities) -> list[Charge]:
        # A crawl of a day already crawled (a duplicate, a late replay) charges no daily fee:
        # the day was priced at its start, and what changed since is priced by the live passes.
        if "daily" not in self.context.reseller.charging.values():
            return []
        crawled = self._crawled()
        if self.crawl and crawled:
            return []
        return period_growth.daily_fees(self, period, quantities, price_today=True)

    def write(self, charges: list[Charge]) -> list[str]:
        # A charge dated to an earlier day (a change seen late) is looked for from its own month.
        month = min([(charge.day.year, charge.day.month) for charge in charges], default=(self.today.year, self.today.month))
        return self.write_entries(self.ledger_entries(charges), month)

    def ledger_entries(self, charges: list[Charge]) -> list[dict[str, Any]]:
        context = self.context
        return [ledger_document(charge, account_id=self.account_id, account_name=context.account_name,
                                currency=context.reseller.currency, tz=context.reseller.timezone,
                                now_gregorian=self.now_gregorian) for charge in charges]

    def write_entries(self, entries: list[dict[str, Any]], business_month: tuple[int, int]) -> list[str]:
        written = self.book.write(self.account_id, entries, business_month, self.now_gregorian)
        if written:
            self._balance = None
        by_event = {event_part(entry["_id"]): entry for entry in entries}
        for entry_id in written:
            entry = by_event[event_part(entry_id)]
            meta = entry["metadata"]["kazbill"]
            self.events.append(BillingEvent("charged", self.account_id, {
                "entry_id": entry_id, "reason": meta["reason"], "ledger_type": entry["pvt_ledger_type"],
                "amount": entry["amount"], "category": meta["category"], "item": meta["item"],
                "quantity": meta["quantity"]}))
        return written

    def emit(self, name: EventName, period: Period, **details: Any) -> None:
        self.events.append(BillingEvent(name, self.account_id, {
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(), **details}))

    def balance(self) -> int:
        if self._balance is None:  # asked up to three times a pass; it changes only when we write
            self._balance = self.book.current_balance(self.account_id, self.now_gregorian)
        return self._balance

    def funds_suffice(self, total: int) -> bool:
        return funds_check(balance=self.balance(), credit_line=self.context.credit_line, mrc_total=total)

    def _standing(self) -> None:
        """Re-evaluates on a conflict: a payment posted by the API and a shard's pass may both
        re-evaluate at once, and the later one must decide on the other's outcome."""
        for attempt in range(STANDING_ATTEMPTS):
            try:
                return self._standing_once()
            except Conflict:
                if attempt == STANDING_ATTEMPTS - 1:
                    raise
                self._balance = None

    def _standing_once(self) -> None:
        store, db = self.ports.store, account_db(self.account_id)
        try:
            stored = store.get(db, STANDING_DOC_ID)
        except NotFound:
            stored = {"_id": STANDING_DOC_ID, "pvt_type": "kazbill_standing"}
        before = Standing(stored["status"], stored["blocked"], tuple(stored.get("reasons", ()))) \
            if "status" in stored else None
        context = self.context
        after = evaluate_standing(
            balance=self.balance(), credit_line=context.credit_line, manual_block=context.account.manual_block,
            blocking_enabled=context.reseller.blocking_enabled,
            created_day=local_day_of_gregorian(context.account.created, context.reseller.timezone),
            today=self.today, grace_days=context.reseller.new_account_grace_days,
            currently_blocked=before.blocked if before else False, unpaid_period=self.unpaid_period)
        # Shown to the customer (the payments page, the notices): what a payment must bring.
        restore = 0 if after.in_good_standing or context.account.manual_block else amount_to_restore(
            balance=self.balance(), credit_line=context.credit_line,
            unpaid_charges=self.unpaid_charges if self.unpaid_period else 0)
        if before == after and stored.get("amount_to_restore", 0) == restore:
            return
        store.put(db, {**stored, "status": after.status, "blocked": after.blocked, "reasons": list(after.reasons),
                       "amount_to_restore": restore, "pvt_modified": self.now_gregorian})
        if before == after:
            return
        for name in standing_events(before, after):
            self.events.append(BillingEvent(STANDING_EVENTS[name], self.account_id, {"reasons": list(after.reasons)}))
            if name in ("blocked", "unblocked"):
                set_blocked(store, self.account_id, name == "blocked", self.now_gregorian)

