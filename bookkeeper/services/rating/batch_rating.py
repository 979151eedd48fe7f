"""Charging a batch of finished calls at once: what call_rating.charge_call does for one call,
with the store asked per account and per batch instead of per call.

A busy trunk ends a call a second, and a batch holds a hundred of them for a few accounts.
Charged one by one, each call read its account's and its resellers' settings again (a context
per level), its rate deck's pointer, looked in two months' ledgers for an earlier debit (a view
query each) and wrote its entry alone: two thirds of a call's cost on the embedded store, tens
of requests a call on CouchDB. Here a batch is one moment, as a billing batch is
(batch_reads.py): each account's context is loaded once, each deck found once, every call is
priced level by level, then per account one view query per month says which calls were debited
before (by Kazbill or by jonny5) and one write per month puts the rest in the ledger.
Deterministic entry ids keep it idempotent: a call twice in one batch, or a batch delivered
again, is a duplicate, never a second debit.

Where the store takes several requests at once (CouchDB: `ports.passes_at_once`), the accounts'
own reads, their settling and their standing checks run that many accounts at a time, as
bill_accounts runs passes: each account's ledger is written by one thread, and what accounts
share is read through the batch's locked BatchReads. One after another, a batch of a few calls
per account waited on some eight round trips per account in turn (a second for fifty accounts
on CouchDB, whatever the batch's size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from bookkeeper.domain.auto_topup import topup_due
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.ledger import signed_amount
from bookkeeper.domain.rating import RateDeck
from bookkeeper.domain.standing import Standing, unchanged_by_debits
from bookkeeper.ports import ViewQuery, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts, account_reads
from bookkeeper.services.billing.account_pass.standing import STANDING_DOC_ID
from bookkeeper.services.billing.batch_reads import BatchReads
from bookkeeper.services.billing.context import BillingContext, load_or_refuse
from bookkeeper.services.billing.directory import DirectoryWrites
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.ledger_book import LedgerBook, event_part, months_from, previous_month, utc_month
from bookkeeper.services.billing.pass_reads import PassReads
from bookkeeper.services.billing.topup_requests import auto_topup_settings
from bookkeeper.services.payments.gateway_settings import is_reseller
from bookkeeper.services.rating.call_rating import (
    PlannedDebit,
    debit_outcome,
    deck_of,
    plan_level,
    repeated_call,
)

Item = BillingEvent | PlannedDebit
T = TypeVar("T")


@dataclass
class _Batch:
    """What the batch's calls read alike: contexts, decks and each account's own documents."""

    ports: BillingPorts
    now: int
    shared: BatchReads
    reads: dict[str, PassReads] = field(default_factory=dict)
    contexts: dict[str, BillingContext] = field(default_factory=dict)
    decks: dict[tuple[str, str], RateDeck] = field(default_factory=dict)
    # Each debited account's balance after the batch's debits (see _settle)
    balances: dict[str, int] = field(default_factory=dict)
    directory: DirectoryWrites = field(default_factory=DirectoryWrites)

    def reads_of(self, account_id: str) -> PassReads:
        if account_id not in self.reads:
            # Rating reads the account's settings, limits, standing, top-up and ledger history.
            self.reads[account_id] = account_reads(self.ports.store, self.shared, account_id)
        return self.reads[account_id]

    def ports_of(self, account_id: str) -> BillingPorts:
        return replace(self.ports, store=self.reads_of(account_id), batch=self.shared)

    def context(self, account_id: str, call: FinishedCall) -> BillingContext | BillingEvent:
        """The account's context, loaded once a batch; a refusal is not kept, so that each call
        it refuses is recorded as charge_call records it."""
        if account_id in self.contexts:
            return self.contexts[account_id]
        context = load_or_refuse(
            self.reads_of(account_id),
            account_id,
            source="rating",
            reason_code="bad_billing_input",
            refusal="call_refused",
            payload={"call_id": call.call_id},
            now_gregorian=self.now,
            closed_too=True,  # a late CDR of a closed account is still owed (call_rating.py)
        )
        if isinstance(context, BillingContext):
            self.contexts[account_id] = context
        return context

    def deck(self, reseller_id: str, name: str) -> RateDeck:
        if (reseller_id, name) not in self.decks:
            self.decks[(reseller_id, name)] = deck_of(self.reads_of(reseller_id), reseller_id, name)
        return self.decks[(reseller_id, name)]

    def each_account(self, work: Callable[[str], T], account_ids: Iterable[str]) -> list[T]:
        """`work` for each account, in order; `passes_at_once` accounts at a time. Each account
        is named once, so no two threads touch one account's reads or ledger; the first error
        raised is raised here once the others have finished, as one account after another would
        have raised it (what the others wrote is found again when the calls are rated again)."""
        accounts = list(dict.fromkeys(account_ids))
        at_once = min(self.ports.passes_at_once, len(accounts))
        if at_once <= 1:
            return [work(account_id) for account_id in accounts]
        with ThreadPoolExecutor(at_once, thread_name_prefix="kazbill-rating") as pool:
            return list(pool.map(work, accounts))


def charge_calls(ports: BillingPorts, calls: Sequence[FinishedCall]) -> tuple[list[list[BillingEvent]], list[str]]:
    """Each call's events, in the batch's order, and the accounts debited whose standing the
    debits may have changed (a duplicate counts: after a crash between the debit and the standing
    pass, its replay brings the standing up to date), for the caller to bill whole. Raises what
    the store raises; the caller charges the calls one by one then."""
    batch = _Batch(ports, gregorian_now(ports.clock), BatchReads(ports.store))
    accounts = sorted({call.account_id for call in calls})
    batch.shared.prefetch_accounts(accounts)
    batch.each_account(batch.reads_of, accounts)  # each account's own documents, for its context
    planned = [_plan(batch, call) for call in calls]
    outcomes = _settle(batch, [item for items in planned for item in items if isinstance(item, PlannedDebit)])
    events: list[list[BillingEvent]] = []
    debited: dict[str, None] = {}
    for items in planned:
        call_events = [outcomes[id(item)] if isinstance(item, PlannedDebit) else item for item in items]
        events.append(call_events)
        debited.update(
            (event.account_id, None) for event in call_events if event.name in ("call_charged", "call_duplicate")
        )
    holds = batch.each_account(lambda account_id: _standing_holds(batch, account_id), debited)
    to_bill = [account_id for account_id, held in zip(debited, holds, strict=True) if not held]
    batch.directory.flush(ports.store)  # the balances of those not billed whole
    return events, to_bill


def _standing_holds(batch: _Batch, account_id: str) -> bool:
    """Whether the account's standing is still what its last pass left, its debits included, and
    no top-up is due: then a whole pass would write nothing (standing.unchanged_by_debits). That
    pass is most of a call's cost when a batch holds a call or two per account, as it does on a
    busy cluster. Whatever else a pass does waits for the account's next change or its crawl."""
    context = batch.contexts[account_id]
    reads = batch.reads_of(account_id)
    stored = reads.get_many(account_db(account_id), [STANDING_DOC_ID]).get(STANDING_DOC_ID) or {}
    standing = Standing(stored["status"], bool(stored.get("blocked"))) if "status" in stored else None
    balance = batch.balances.get(account_id)
    if balance is None:
        balance = LedgerBook(reads, batch.ports.design_docs).current_balance(account_id, batch.now)
    batch.directory.note({"_id": account_id, "balance": balance, "balance_at": batch.now})
    return unchanged_by_debits(
        standing, stored.get("amount_to_restore", 0), balance, context.credit_line
    ) and not topup_due(auto_topup_settings(reads, account_id), balance, batch.now)


def _plan(batch: _Batch, call: FinishedCall) -> list[Item]:
    """The call's levels, up the reseller chain as charge_call walks it, priced but not written."""
    if not call.offnet or call.billing_seconds <= 0:
        return [BillingEvent("call_not_billable", call.account_id, {"call_id": call.call_id})]
    items: list[Item] = []
    account_id, reason = call.account_id, "per_minute_call"
    jonny5: frozenset[str] | None = None
    while True:
        context = batch.context(account_id, call)
        if isinstance(context, BillingEvent):
            return items + [context]
        if not context.billable:
            return items
        if jonny5 is None:
            jonny5 = call.jonny5_payers(context.reseller_id)
        if account_id in jonny5:
            items.append(BillingEvent("call_left_to_jonny5", account_id, {"call_id": call.call_id}))
        else:
            items.append(plan_level(batch.ports_of(account_id), context, call, reason, batch.now, batch.deck))
        if context.reseller_id in (context.master_id, account_id):
            return items
        account_id, reason = context.reseller_id, "sub_account_per_minute_call"


def _settle(batch: _Batch, planned: list[PlannedDebit]) -> dict[int, BillingEvent]:
    """Each planned debit's outcome (keyed by the plan's identity), settled account by account."""
    by_account: dict[str, list[PlannedDebit]] = defaultdict(list)
    for debit in planned:
        by_account[debit.account_id].append(debit)
    outcomes: dict[int, BillingEvent] = {}
    for settled in batch.each_account(
        lambda account_id: _settle_account(batch, account_id, by_account[account_id]), by_account
    ):
        outcomes.update(settled)
    return outcomes


def _settle_account(batch: _Batch, account_id: str, debits: list[PlannedDebit]) -> dict[int, BillingEvent]:
    """The account's debits: the calls it was debited for before are found in one view query per
    month, the rest written one month at a time."""
    outcomes: dict[int, BillingEvent] = {}
    book = LedgerBook(batch.reads_of(account_id), batch.ports.design_docs)
    before = _debited_before(book, account_id, debits, batch.now)
    to_write: dict[tuple[int, int], list[PlannedDebit]] = defaultdict(list)
    seen: set[str] = set()
    for debit in debits:
        if debit.call_id in before:
            outcomes[id(debit)] = repeated_call(debit, before[debit.call_id])
        elif debit.entry is None:
            outcomes[id(debit)] = BillingEvent("call_free", account_id, {"call_id": debit.call_id})
        elif event_part(debit.entry["_id"]) in seen:
            # The same call twice in the batch: a redelivery, or two reports of it dated either
            # side of a month's end (the ids differ in their month only).
            outcomes[id(debit)] = debit_outcome(debit, charged=False)
        else:
            seen.add(event_part(debit.entry["_id"]))
            to_write[(debit.day.year, debit.day.month)].append(debit)
    ahead = bool(to_write or before) and _debited_here_alone(batch, account_id, debits)
    balance = book.current_balance(account_id, batch.now) if ahead else 0
    for month, group in to_write.items():
        entries = [debit.entry for debit in group if debit.entry is not None]
        written = {event_part(doc_id) for doc_id in book.write(account_id, entries, month, batch.now)}
        for debit in group:
            assert debit.entry is not None
            charged = event_part(debit.entry["_id"]) in written
            outcomes[id(debit)] = debit_outcome(debit, charged=charged)
            balance += signed_amount(debit.entry) if charged else 0
            # An entry refused (there already, or a cluster's write not confirmed) may be in
            # the ledger without its amount here: the balance is read after, then.
            ahead = ahead and charged
    if ahead:
        batch.balances[account_id] = balance
    return outcomes


def _debited_here_alone(batch: _Batch, account_id: str, debits: list[PlannedDebit]) -> bool:
    """Whether the account's balance after the batch may be taken before its writes and moved by
    them (_settle): read after them, it made CouchDB index the batch's own entries first (tens of
    ms an account) and the embedded store map them through its views; read right after
    _debited_before, the ledger views are as fresh as they get. Only for an account no other
    shard debits meanwhile: a reseller's sub-accounts' calls are rated by their own shards at the
    same time, and of two passes reading after their writes the later sees both, where two
    reading before would each miss the other's. So not for a reseller by its flag, nor for one
    by the chain's rule in this batch (a debit for a sub-account's call, or the reseller of an
    account rated here), nor for an account closed (its sub-accounts' late CDRs are still rated)."""
    context = batch.contexts.get(account_id)
    if context is None or context.closed_gregorian is not None:
        return False
    if any(other.reseller_id == account_id for other in batch.contexts.values()):
        return False
    reasons = {debit.entry["metadata"]["kazbill"]["reason"] for debit in debits if debit.entry is not None}
    if reasons - {"per_minute_call"}:
        return False
    return not is_reseller(batch.reads_of(account_id), account_id)


def _debited_before(book: LedgerBook, account_id: str, debits: list[PlannedDebit], now: int) -> dict[str, str]:
    """call id -> "kazoo" or "kazbill", for the calls already debited, looked for in the months
    call_rating._debited_before looks in for each (from the month before the call to now), one
    view query per month for all the calls that month may hold."""
    wanted: dict[tuple[int, int], set[str]] = defaultdict(set)
    for debit in debits:
        first = previous_month(min((debit.day.year, debit.day.month), utc_month(debit.ended)))
        for month in months_from(first, max(first, utc_month(now))):
            wanted[month].add(debit.call_id)
    found: dict[str, str] = {}
    for month in sorted(wanted):
        db = book.month_db(account_id, month, create=False)
        keys = sorted(wanted[month] - set(found))
        if db is None or not keys:
            continue
        rows = book.store.query_view(db, "kazbill_ledgers", "calls_by_id", ViewQuery(keys=keys)).rows
        verdicts: dict[str, str] = {}
        for row in rows:
            if verdicts.get(row.key) != "kazoo":
                verdicts[row.key] = "kazoo" if row.value == "kazoo" else "kazbill"
        found.update(verdicts)
    return found
