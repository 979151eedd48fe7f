"""What the supervisor records when a shard fails twice on the same work: one failure in
kazbill_failures, for a person, with the work's kind, day, accounts and calls."""

from __future__ import annotations

import dataclasses

from actors.messages import ShardWork
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.ports import DocumentStore


def record_shard_failure(store: DocumentStore, clock_file: str | None, work: ShardWork, reason: str) -> None:
    from bookkeeper.bootstrap import build_clock
    from bookkeeper.services.setup.failures import record_failure

    now = gregorian_of(build_clock(clock_file).now())
    record_failure(
        store,
        source="supervisor",
        reason_code="shard_work_failed",
        reason=reason,
        payload={
            "kind": work.kind,
            "day": work.day,
            "account_ids": list(work.account_ids),
            "calls": [dataclasses.asdict(call) for call in work.calls],
        },
        account_id=None,
        now_gregorian=now,
    )
