"""What the supervisor records when a shard fails twice on the same work (or hangs on it): a
failure in kazbill_failures, for a person, with the work's kind, day, accounts and calls."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from actors.messages import ShardWork, StartService
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.ports import DocumentStore

log = logging.getLogger("kazbill.supervisor")


class ShardFailures:
    """Mixed into the supervisor: work failed for good is recorded, and its accounts reported
    failed; unrecorded (the store is away), they are handed back instead."""

    config: StartService | None
    _failures_store: DocumentStore | None
    _report: Any  # the supervisor's (batch_id, shard, done, failed, not_done)

    def _fail_work(self, index: int, work: ShardWork, reason: str) -> None:
        log.error("shard %d: %s (batch %s, %d accounts)", index, reason, work.batch_id, len(work.account_ids))
        try:
            self._record(work, reason)
        except Exception as error:  # noqa: BLE001 - unrecorded, the accounts are handed back instead
            log.error("could not record the failure (%s); handing the accounts back", error)
            self._report(work.batch_id, index, (), (), work.account_ids)
            return
        self._report(work.batch_id, index, (), tuple((account, reason) for account in work.account_ids), ())

    def _record(self, work: ShardWork, reason: str) -> None:
        from bookkeeper.bootstrap import build_store

        assert self.config is not None
        if self._failures_store is None:
            self._failures_store = build_store(self.config.settings)
        record_shard_failure(self._failures_store, self.config.clock_file, work, reason)


def record_shard_failure(store: DocumentStore, clock_file: str | None, work: ShardWork, reason: str) -> None:
    """One record per KEPT_ENTRIES accounts (or calls: a rating names an account per call), each
    replayable on its own. One record cut a merged rating of up to 24,000 calls at the 1,000th
    (a stored list is cut there), and a cut record is not replayable: the other calls were in
    no record at all."""
    from bookkeeper.bootstrap import build_clock
    from bookkeeper.services.setup.failures import KEPT_ENTRIES, record_failure

    now = gregorian_of(build_clock(clock_file).now())
    size = KEPT_ENTRIES
    parts = max(1, -(-max(len(work.account_ids), len(work.calls)) // size))
    for part in range(parts):
        payload: dict[str, Any] = {
            "kind": work.kind,
            "day": work.day,
            "account_ids": list(work.account_ids[part * size : (part + 1) * size]),
            "calls": [dataclasses.asdict(call) for call in work.calls[part * size : (part + 1) * size]],
        }
        if parts > 1:
            payload["part"] = f"{part + 1} of {parts}"
        record_failure(
            store,
            source="supervisor",
            reason_code="shard_work_failed",
            reason=reason,
            payload=payload,
            account_id=None,
            now_gregorian=now,
        )
