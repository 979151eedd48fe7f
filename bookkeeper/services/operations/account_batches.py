"""Billing a batch of accounts, as a shard does: each account at most twice, a store outage
handed back instead of recorded, and every other failure stored for the operator. An account the
store refuses while answering the rest is handed back alone, and stored as a failure when it goes
on (store_refusals.py).

A change or a crawl is only a reason to look at an account; the handlers are idempotent, so a
batch that is run again after a crash repeats reads and writes nothing new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

from bookkeeper.domain.kazoo_names import is_account_id
from bookkeeper.domain.notices import calls_for_notice
from bookkeeper.ports import DocumentStore, StoreUnavailable, gregorian_now
from bookkeeper.services.billing.account_pass import (
    BillingPorts,
    account_reads,
    crawl_account_day,
    reconcile_account,
)
from bookkeeper.services.billing.batch_reads import BatchReads
from bookkeeper.services.billing.directory import DirectoryWrites
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.pass_reads import PassReads
from bookkeeper.services.billing.store_refusals import refusal_reason, store_answers
from bookkeeper.services.documents.period_documents import DocumentPorts, issue_documents_if_due
from bookkeeper.services.setup.failures import record_failure

log = logging.getLogger("kazbill.batches")
ATTEMPTS = 2  # as Thespian does: once more, then it is a stored failure, not a loop


@dataclass(frozen=True)
class BatchOutcome:
    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]  # (account id, reason), recorded in kazbill_failures
    not_done: tuple[str, ...]  # the store was unreachable: hand these back
    events: tuple[BillingEvent, ...]


def bill_accounts(ports: BillingPorts, account_ids: Sequence[str], *, day: date | None = None) -> BatchOutcome:
    """Reconcile each account (day None) or crawl it for `day`, `ports.passes_at_once` accounts at
    a time. Accounts are independent (a batch names each once, and what several accounts share,
    a document number or a notice, is already safe between shards); each account's events stay
    in order, and the batch reports accounts in the order it was given them."""
    try:
        ports = replace(ports, batch=_batch_reads(ports, account_ids), directory=DirectoryWrites())
    except StoreUnavailable as error:
        log.warning("store unavailable, %d accounts handed back: %s", len(account_ids), error)
        return BatchOutcome((), (), tuple(account_ids), ())
    handler: Callable[[str], list[BillingEvent]] = (
        (lambda account_id: reconcile_account(ports, account_id))
        if day is None
        else (
            lambda account_id: (
                crawl_account_day(ports, account_id, day)
                + issue_documents_if_due(
                    DocumentPorts(ports.store, ports.clock, ports.design_docs),
                    account_id,
                    day,
                    settings_reads=_settings_reads(ports, account_id),
                )
            )
        )
    )
    # Named twice (not by a shard, which is handed each account once): one after another, as
    # two passes of one account must never overlap.
    at_once = ports.passes_at_once if len(set(account_ids)) == len(account_ids) else 1
    outcomes = _each(handler, account_ids, at_once, ports.store)
    if ports.directory is not None:
        ports.directory.flush(ports.store)  # the batch's summaries, together
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    events: list[BillingEvent] = []
    not_done: list[str] = []
    outage = any(isinstance(outcome, _NotStarted | StoreUnavailable) for outcome in outcomes)
    if outage:
        ports.refusals.store_in_trouble()
    for account_id, outcome in zip(account_ids, outcomes, strict=True):
        refusal_key = f"{account_id}@{day.isoformat() if day else 'live'}"
        if isinstance(outcome, _Refused):
            if outage or not ports.refusals.refused(refusal_key):
                not_done.append(account_id)
                continue
            outcome = _RefusedForGood(refusal_reason(ports.refusals, outcome.error))
        if isinstance(outcome, _NotStarted | StoreUnavailable):
            not_done.append(account_id)
        elif isinstance(outcome, Exception):
            refused = isinstance(outcome, _RefusedForGood)
            reason = str(outcome) if refused else f"{type(outcome).__name__}: {outcome}"[:500]
            try:
                _record(ports, account_id, day, reason, refused=refused)
            except StoreUnavailable:  # not recorded, so not failed: it is tried again later
                not_done.append(account_id)
                continue
            ports.refusals.answered(refusal_key)  # stored: a replay refused again starts afresh
            failed.append((account_id, reason))
        else:
            ports.refusals.answered(refusal_key)
            events.extend(outcome)
            if any(calls_for_notice(event.name) for event in outcome):  # the billing handler queued them
                events.append(BillingEvent("notices_queued", account_id))
            done.append(account_id)
    if not_done:
        log.warning("%d accounts handed back (the store away, or refusing them)", len(not_done))
    return BatchOutcome(tuple(done), tuple(failed), tuple(not_done), tuple(events))


def _settings_reads(ports: BillingPorts, account_id: str) -> PassReads:
    return account_reads(ports.store, ports.batch, account_id)


def _batch_reads(ports: BillingPorts, account_ids: Sequence[str]) -> BatchReads:
    batch = BatchReads(ports.store)
    batch.prefetch_accounts([account_id for account_id in account_ids if is_account_id(account_id)])
    return batch


class _NotStarted:
    """The store went away before this account's turn: handed back untouched."""


@dataclass(frozen=True)
class _Refused:
    """The store refused this account while it answered about the accounts database."""

    error: StoreUnavailable


class _RefusedForGood(Exception):
    """Refused long enough (store_refusals.py): stored as a failure, the batch done without it."""


_NOT_STARTED = _NotStarted()
_Outcome = list[BillingEvent] | Exception | _NotStarted | _Refused


def _each(
    handler: Callable[[str], list[BillingEvent]], account_ids: Sequence[str], at_once: int, store: DocumentStore
) -> list[_Outcome]:
    """Each account's outcome, in order: its events, the exception it ended with, _Refused when
    the store refused it alone, or _NOT_STARTED once the store has been found unavailable
    (nothing more is started then; what is running finishes, done or handed back). Only the
    batch's first refusal can be an account's own: a second is the store's trouble, and so is
    a refusal the store does not answer after (a slow store does not make each account wait
    out its timeout in turn, past the shard's deadline)."""
    unavailable = threading.Event()
    first_refusal = threading.Lock()  # taken by the batch's first refusal, never released

    def one(account_id: str) -> _Outcome:
        if unavailable.is_set():
            return _NOT_STARTED
        try:
            return _twice(handler, account_id)
        except StoreUnavailable as error:
            if first_refusal.acquire(blocking=False) and store_answers(store):  # its own: the others go on
                log.warning("the store refused %s while answering the rest: %s", account_id, error)
                return _Refused(error)
            unavailable.set()
            return error

    if at_once <= 1 or len(account_ids) <= 1:
        return [one(account_id) for account_id in account_ids]
    with ThreadPoolExecutor(min(at_once, len(account_ids)), thread_name_prefix="kazbill-pass") as pool:
        return list(pool.map(one, account_ids))


def _twice(handler: Callable[[str], list[BillingEvent]], account_id: str) -> list[BillingEvent] | Exception:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return handler(account_id)
        except StoreUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - a bug or bad data must not stop the batch
            log.exception("billing %s failed (attempt %d of %d)", account_id, attempt, ATTEMPTS)
            last = error
    return last


def _record(ports: BillingPorts, account_id: str, day: date | None, reason: str, *, refused: bool) -> None:
    now_gregorian = gregorian_now(ports.clock)
    record_failure(
        ports.store,
        source="shard",
        reason_code="billing_store_refused" if refused else "billing_crashed",
        reason=reason,
        payload={"account_id": account_id, "day": day.isoformat() if day else None, "reason": reason},
        account_id=account_id,
        now_gregorian=now_gregorian,
    )
