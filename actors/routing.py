"""Which shard owns an account, and the bookkeeping of a batch split across shards. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from actors.messages import HandOff, ShardWork

C = TypeVar("C")


def shard_of(account_id: str, shard_count: int) -> int:
    """Stable across processes and restarts (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(account_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def split_by_shard(account_ids: Iterable[str], shard_count: int) -> dict[int, tuple[str, ...]]:
    """Each account once, in first-seen order, under the shard that owns it."""
    parts: dict[int, list[str]] = {}
    seen: set[str] = set()
    for account_id in account_ids:
        if account_id not in seen:
            seen.add(account_id)
            parts.setdefault(shard_of(account_id, shard_count), []).append(account_id)
    return {shard: tuple(ids) for shard, ids in parts.items()}


def split_calls_by_shard(calls: Iterable[C], shard_count: int, account_of) -> dict[int, tuple[C, ...]]:
    """Each call, in order, under the shard that owns the account that placed it: that account's
    debits stay single-writer, and its calls are rated in the order they were handed over."""
    parts: dict[int, list[C]] = {}
    for call in calls:
        parts.setdefault(shard_of(account_of(call), shard_count), []).append(call)
    return {shard: tuple(part) for shard, part in parts.items()}


def shard_works(batch: HandOff, shard_count: int) -> dict[int, ShardWork]:
    """What each shard is given of a batch: its accounts, or the calls its accounts placed."""
    if batch.kind == "rate":
        calls = split_calls_by_shard(batch.calls, shard_count, lambda call: call.account_id)
        return {
            index: ShardWork(batch.batch_id, "rate", tuple(call.account_id for call in part), None, part)
            for index, part in calls.items()
        }
    return {
        index: ShardWork(batch.batch_id, batch.kind, account_ids, batch.day)
        for index, account_ids in split_by_shard(batch.account_ids, shard_count).items()
    }


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Batch:
    reply_to: object
    waiting_for: set[int]
    outcome: Outcome


class PendingBatches:
    """Batches handed to several shards, answered once every shard has reported."""

    def __init__(self) -> None:
        self._batches: dict[str, _Batch] = {}

    def open(self, batch_id: str, reply_to: object, shards: Iterable[int]) -> None:
        self._batches[batch_id] = _Batch(reply_to, set(shards), Outcome())

    def __contains__(self, batch_id: str) -> bool:
        return batch_id in self._batches

    def report(
        self,
        batch_id: str,
        shard: int,
        done: Iterable[str],
        failed: Iterable[tuple[str, str]],
        not_done: Iterable[str],
        events: Iterable[tuple[str, str]] = (),
    ) -> tuple[object, Outcome] | None:
        """(reply_to, outcome) when this report completes the batch, else None. A report for a
        batch or shard that is not waited for (a late answer from before a restart) is ignored."""
        batch = self._batches.get(batch_id)
        if batch is None or shard not in batch.waiting_for:
            return None
        batch.waiting_for.discard(shard)
        batch.outcome.done.extend(done)
        batch.outcome.failed.extend(failed)
        batch.outcome.not_done.extend(not_done)
        batch.outcome.events.extend(events)
        if batch.waiting_for:
            return None
        del self._batches[batch_id]
        return batch.reply_to, batch.outcome
