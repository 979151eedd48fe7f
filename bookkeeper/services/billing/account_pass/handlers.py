"""The bookkeeper's two handlers, reconcile (a document changed) and crawl (a day begins):
load the account through the ports, refuse what cannot be billed, run the pass (steps.py),
and queue the notices its events call for, together with the billing itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
from bookkeeper.domain.kazoo_names import account_db, gregorian_of, is_account_id
from bookkeeper.domain.periods import local_day, local_day_of_gregorian
from bookkeeper.domain.plans import PlanError
from bookkeeper.domain.quantities import QuantityError
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_pass.inputs import BillingPorts
from bookkeeper.services.billing.account_pass.standing import STANDING_DOC_ID
from bookkeeper.services.billing.account_pass.steps import run_pass
from bookkeeper.services.billing.batch_reads import BatchReads
from bookkeeper.services.billing.context import load_context, load_or_refuse
from bookkeeper.services.billing.directory import note_summary
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.ledger_book import HISTORY_DOC, LedgerBook
from bookkeeper.services.billing.months_ahead import prepare_next_month
from bookkeeper.services.billing.notice_queue import drafts_from_events, queue_notices
from bookkeeper.services.billing.pass_reads import PassReads
from bookkeeper.services.billing.trials import check_trial
from bookkeeper.services.hooks_out.outbox import queue_webhooks
from bookkeeper.services.setup.failures import record_failure

# What a pass reads of the account's own database, one by one: fetched in one request up front.
ACCOUNT_DOCS_READ = ("onbill", "limits", STANDING_DOC_ID, AUTO_TOPUP_DOC_ID, HISTORY_DOC)


def account_reads(store: DocumentStore, batch: BatchReads | None, account_id: str) -> PassReads:
    """One account's pass over the store: reads once each, what its batch shares read once per
    batch, and the account's own documents (ACCOUNT_DOCS_READ) fetched in one request."""
    reads = PassReads(store, batch=batch, account_id=account_id)
    if is_account_id(account_id):
        reads.prefetch(account_db(account_id), ACCOUNT_DOCS_READ)
    return reads


def reconcile_account(ports: BillingPorts, account_id: str) -> list[BillingEvent]:
    """After a change to one of the account's documents: bill what changed, today."""
    return _bill(ports, account_id, None)


def crawl_account_day(ports: BillingPorts, account_id: str, day: date) -> list[BillingEvent]:
    """The daily crawl for one account and one (reseller-local) day: opens the period when the
    day starts one, and charges the day's daily fees even when nothing happened."""
    return _bill(ports, account_id, day)


def _bill(ports: BillingPorts, account_id: str, day: date | None) -> list[BillingEvent]:
    # The pass reads each document once; what other accounts' passes of its batch read too (the
    # reseller's settings and plans) once per batch.
    ports = replace(ports, store=account_reads(ports.store, ports.batch, account_id))
    now = ports.clock.now()
    now_gregorian = gregorian_of(now)
    context = load_or_refuse(
        ports.store,
        account_id,
        source="bookkeeper",
        reason_code="bad_billing_input",
        refusal="billing_failed",
        payload={"day": day.isoformat() if day else None},
        now_gregorian=now_gregorian,
        closed_too=True,
    )
    if isinstance(context, BillingEvent):
        return [context]
    if not context.billable:
        return []
    # A crawl catching up a day the account was still open when it began bills that day;
    # nothing after, and a change to a closed account's documents charges nothing and is
    # nobody's mistake (no failure).
    if context.closed_gregorian is not None and (
        day is None or day > local_day_of_gregorian(context.closed_gregorian, context.reseller.timezone)
    ):
        note_summary(ports.directory, ports.store, {"_id": account_id, "closed": True})
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
            trial_events += run_pass(
                ports,
                context,
                book,
                today=today,
                present=today_here,
                now_gregorian=now_gregorian,
                crawl=day is not None,
            )
        except (QuantityError, PlanError) as error:
            # A document the counting cannot read (a device type that is a list, a trunk count
            # beyond any price): nothing is charged from it, and a person is told which field.
            field = error.field if error.field.startswith("quantities.") else f"quantities.{error.field}"
            record_failure(
                ports.store,
                source="bookkeeper",
                reason_code="bad_billing_input",
                reason=str(error),
                payload={"day": day.isoformat() if day else None, "account_id": account_id},
                account_id=account_id,
                now_gregorian=now_gregorian,
                field=field,
            )
            return trial_events + [BillingEvent("billing_failed", account_id, {"field": field, "reason": error.reason})]
    # Queued with the billing itself, whoever asked for it (a change, the crawl, a payment), so
    # a notice can never be lost between the charge and the email; queuing again is a no-op.
    queue_notices(ports.store, account_id, drafts_from_events(trial_events, today).get(account_id, []), now_gregorian)
    queue_webhooks(ports.store, trial_events, now_gregorian)  # for the resellers above that subscribed
    if day is not None and context.closed_gregorian is None:
        prepare_next_month(book, account_id, now_gregorian)  # ahead, as Kazoo does; never fails the pass
    return trial_events
