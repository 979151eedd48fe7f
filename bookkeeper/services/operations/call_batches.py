"""Rating a batch of finished calls, as a shard does: all of them charged together
(batch_rating.py), and when that fails for any reason but the store, one by one, each call at
most twice, then its failure stored with the call. The standing of the accounts the batch
debited is re-evaluated once at the end (not once per call: a busy trunk ends a call a second),
by a whole pass where the debits may have changed it (batch_rating._standing_holds).
A store outage hands the batch back, and the caller delivers it again: the calls already charged
are duplicates then, and their accounts' standing is what the second delivery brings up to date.
When the store still answers, the batch is rated one by one instead: a call the store refuses
alone is handed back, and stored as a failure when it goes on (store_refusals.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Sequence

from bookkeeper.domain.calls import FinishedCall
from bookkeeper.ports import StoreUnavailable, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.store_refusals import refusal_reason, store_answers
from bookkeeper.services.operations.account_batches import ATTEMPTS, BatchOutcome, bill_accounts
from bookkeeper.services.rating.batch_rating import charge_calls
from bookkeeper.services.rating.call_rating import charge_call
from bookkeeper.services.setup.failures import record_failure

log = logging.getLogger("kazbill.calls")


def rate_calls(ports: BillingPorts, calls: Sequence[FinishedCall], parts: Sequence[int] = ()) -> BatchOutcome:
    """`done`, `failed` and `not_done` name the calls' accounts, one entry per call (and then the
    accounts whose standing could not be billed). `parts`: the calls are several batches merged
    (actors/work_merging.py), this many calls each; if rating them together fails, each is rated
    as a batch of its own, and only one that fails again one call at a time (a few thousand
    calls one by one would outlast the hand-off's timeout on CouchDB)."""
    try:
        per_call, debited = charge_calls(ports, calls)
    except StoreUnavailable as error:
        if store_answers(ports.store):  # maybe one call's own: the others are not held back by it
            log.warning("the store refused %d calls rated together (%s); rating them apart", len(calls), error)
            return _apart(ports, calls, parts)
        ports.refusals.store_in_trouble()
        log.warning("store unavailable, %d calls handed back: %s", len(calls), error)
        return BatchOutcome((), (), tuple(call.account_id for call in calls), ())
    except Exception:  # noqa: BLE001 - what was written is found again by the calls one by one
        log.exception("rating %d calls together failed; rating them apart", len(calls))
        return _apart(ports, calls, parts)
    events = [event for call_events in per_call for event in call_events]
    return _with_standing(ports, [call.account_id for call in calls], [], events, debited)


def _apart(ports: BillingPorts, calls: Sequence[FinishedCall], parts: Sequence[int]) -> BatchOutcome:
    """Merged batches each on its own, else one call at a time."""
    if len(parts) > 1 and sum(parts) == len(calls):
        return _batch_by_batch(ports, calls, parts)
    if parts and sum(parts) != len(calls):
        log.error("batch sizes %s do not add up to the %d calls: ignored", list(parts), len(calls))
    return _one_by_one(ports, calls)


def _batch_by_batch(ports: BillingPorts, calls: Sequence[FinishedCall], parts: Sequence[int]) -> BatchOutcome:
    outcomes: list[BatchOutcome] = []
    start = 0
    for size in parts:
        part = calls[start : start + size]
        handed_back = (
            bool(outcomes) and not outcomes[-1].done and bool(outcomes[-1].not_done) and not store_answers(ports.store)
        )
        # The store gone for the batch before (every call handed back): the rest is handed back
        # too, not tried against it one batch after another.
        outcomes.append(
            BatchOutcome((), (), tuple(c.account_id for c in part), ()) if handed_back else rate_calls(ports, part)
        )
        start += size
    return BatchOutcome(
        tuple(account for outcome in outcomes for account in outcome.done),
        tuple(failure for outcome in outcomes for failure in outcome.failed),
        tuple(account for outcome in outcomes for account in outcome.not_done),
        tuple(event for outcome in outcomes for event in outcome.events),
    )


def _one_by_one(ports: BillingPorts, calls: Sequence[FinishedCall]) -> BatchOutcome:
    """Each call at most twice, a failure stored with the call. The first call the store refuses
    while answering is handed back alone (store_refusals.py); a second, or the store not
    answering, is an outage: that call and the rest are handed back."""
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    refused: list[str] = []  # by the store alone: handed back
    events: list[BillingEvent] = []
    debited: dict[str, None] = {}
    given_up: set[str] = set()  # accounts of calls stored as refused
    for position, call in enumerate(calls):
        refusal_key = f"call:{call.account_id}:{call.call_id}"
        try:
            outcome = _twice(ports, call)
        except StoreUnavailable as error:
            if refused or not store_answers(ports.store):
                return _handed_back(ports, done, failed, refused, calls[position:], events, error)
            log.warning("the store refused call %s while answering the rest: %s", call.call_id, error)
            if not ports.refusals.refused(refusal_key):
                refused.append(call.account_id)
                continue
            outcome = _RefusedForGood(refusal_reason(ports.refusals, error))
            debited[call.account_id] = None  # its debit may be written: its standing is decided below
            given_up.add(call.account_id)
        if isinstance(outcome, Exception):
            for_good = isinstance(outcome, _RefusedForGood)
            reason = str(outcome) if for_good else f"{type(outcome).__name__}: {outcome}"[:500]
            try:
                record_failure(
                    ports.store,
                    source="rating",
                    reason_code="rating_store_refused" if for_good else "rating_crashed",
                    reason=reason,
                    payload={"call": dataclasses.asdict(call)},
                    account_id=call.account_id,
                    now_gregorian=gregorian_now(ports.clock),
                )
            except StoreUnavailable as unrecorded:  # not recorded, so not failed: tried again later
                return _handed_back(ports, done, failed, refused, calls[position:], events, unrecorded)
            ports.refusals.answered(refusal_key)
            failed.append((call.account_id, reason))
            continue
        ports.refusals.answered(refusal_key)
        call_events, accounts = outcome
        events += call_events
        debited.update(dict.fromkeys(accounts))
        done.append(call.account_id)
    return _with_standing(ports, done, failed, events, list(debited), refused=refused, given_up=given_up)


def _handed_back(
    ports: BillingPorts,
    done: list[str],
    failed: list[tuple[str, str]],
    refused: list[str],
    rest: Sequence[FinishedCall],
    events: list[BillingEvent],
    error: StoreUnavailable,
) -> BatchOutcome:
    ports.refusals.store_in_trouble()
    log.warning("store unavailable, %d calls handed back: %s", len(refused) + len(rest), error)
    return BatchOutcome(tuple(done), tuple(failed), tuple(refused) + tuple(c.account_id for c in rest), tuple(events))


class _RefusedForGood(Exception):
    """The store refused the call long enough (store_refusals.py): stored as a failure."""


def _with_standing(
    ports: BillingPorts,
    done: list[str],
    failed: list[tuple[str, str]],
    events: list[BillingEvent],
    debited: list[str],
    refused: Sequence[str] = (),
    given_up: Collection[str] = (),
) -> BatchOutcome:
    """The batch's outcome once the standing of the accounts it debited is billed. Standing not
    billed where the store was away (debits written): the batch is delivered again, but not for
    an account whose call was stored as refused (`given_up`): the store refuses that account,
    and the call's replay decides its standing."""
    standing = bill_accounts(ports, debited)
    return BatchOutcome(
        tuple(done),
        tuple(failed) + standing.failed,
        tuple(refused) + tuple(account for account in standing.not_done if account not in given_up),
        tuple(events) + standing.events,
    )


def _twice(ports: BillingPorts, call: FinishedCall) -> tuple[list[BillingEvent], list[str]] | Exception:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return charge_call(ports, call)
        except StoreUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - one bad call must not stop the batch
            log.exception("rating call %s failed (attempt %d of %d)", call.call_id, attempt, ATTEMPTS)
            last = error
    return last
