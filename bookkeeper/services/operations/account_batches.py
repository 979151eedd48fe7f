"""Billing a batch of accounts, as a shard does: each account at most twice, a store outage
handed back instead of recorded, and every other failure stored for the operator.

A change or a crawl is only a reason to look at an account; the handlers are idempotent, so a
batch that is run again after a crash repeats reads and writes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from bookkeeper.domain.notices import calls_for_notice
from bookkeeper.ports import StoreUnavailable, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.billing.events import BillingEvent
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
    """Reconcile each account (day None) or crawl it for `day`."""
    handler: Callable[[str], list[BillingEvent]] = (
        (lambda account_id: reconcile_account(ports, account_id))
        if day is None
        else (
            lambda account_id: (
                crawl_account_day(ports, account_id, day)
                + issue_documents_if_due(DocumentPorts(ports.store, ports.clock, ports.design_docs), account_id, day)
            )
        )
    )
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    events: list[BillingEvent] = []
    for position, account_id in enumerate(account_ids):
        try:
            outcome = _twice(handler, account_id)
            if isinstance(outcome, Exception):
                reason = f"{type(outcome).__name__}: {outcome}"[:500]
                _record(ports, account_id, day, reason)
                failed.append((account_id, reason))
            else:
                events.extend(outcome)
                if any(calls_for_notice(event.name) for event in outcome):  # the billing handler queued them
                    events.append(BillingEvent("notices_queued", account_id))
                done.append(account_id)
        except StoreUnavailable as error:
            log.warning("store unavailable, %d accounts handed back: %s", len(account_ids) - position, error)
            return BatchOutcome(tuple(done), tuple(failed), tuple(account_ids[position:]), tuple(events))
    return BatchOutcome(tuple(done), tuple(failed), (), tuple(events))


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


def _record(ports: BillingPorts, account_id: str, day: date | None, reason: str) -> None:
    now_gregorian = gregorian_now(ports.clock)
    record_failure(
        ports.store,
        source="shard",
        reason_code="billing_crashed",
        reason=reason,
        payload={"account_id": account_id, "day": day.isoformat() if day else None, "reason": reason},
        account_id=account_id,
        now_gregorian=now_gregorian,
    )
