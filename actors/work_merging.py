"""Work for a shard busy with work of its kind waits, and goes to it as one piece of work. Pure.

Rating ("rate") and reconciling ("reconcile") are merged; a crawl of a day is not (each names
its day, and the scheduler counts them one by one).

Most of what rating a batch of calls costs is per account in it, not per call: its context, its
earlier debits and balance (ledger views), its rollover, its write; some eight store requests on
CouchDB whether the account has one call in the batch or fifty (batch_rating.py). The AMQP bridge
keeps several batches in flight, and how many messages each holds depends on what the broker had
delivered when the bridge cut it: after a big batch is acknowledged a small one often follows
(measured on CouchDB: batches of 91-2,000 messages in turn, each taking about as long). Handed
to the shard one after another, each paid every account's requests again. Held while the shard
rates the one before and then merged, they pay them once per round, however the bridge cut them:
the shard rates whatever has come since it last looked, as Erlang's group commit does. Doc
events are alike and more so: a reconcile is a whole pass over the account, and an account with
changes in three batches in flight was billed three times where once, after the last, sees all.

The merged work's report is split back into one report per batch it was made of
(merged_reports.py), so each bridge still learns about its own batch, and still acknowledges it
only once its calls are rated or its accounts billed. Merging never delays work: a shard with no
work of the kind in hand gets a batch at once. Nor does it reorder work around a crawl: a crawl
(which may close a period and issue its documents) waits until what came before it has gone to
the shard, and what comes after it waits for it, as the shard's mailbox kept them in order
before (but for a merged work sent before a crawl that the shard then dies or fails on: its
batches go again after the crawl). A merged work the shard died on, or failed on twice, is not
merged again: its batches go one at a time on that shard, so that one bad batch fails alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from actors.merged_reports import BatchReport, split_rating, split_reconciling
from actors.messages import ShardWork

MERGED_KINDS = ("rate", "reconcile")


def merges(work: ShardWork) -> bool:
    return work.kind in MERGED_KINDS and work.day is None


@dataclass
class WorkMerging:
    held: dict[int, list[ShardWork]] = field(default_factory=dict)  # per shard, in arrival order
    merged: dict[str, tuple[ShardWork, ...]] = field(default_factory=dict)  # merged id -> its batches
    # (shard, batch) of a merged work that failed: never merged again (a batch's id is the same on
    # every shard it was split to; only the shard that failed on it sends it alone)
    alone: set[tuple[int, str]] = field(default_factory=set)

    def hold(self, shard: int, work: ShardWork) -> None:
        self.held.setdefault(shard, []).append(work)

    def release(self, shard: int, busy: Iterable[str]) -> list[ShardWork]:
        """What goes to the shard now, in order, given the kinds it is busy with: up to the first
        crawl held, each kind not busy as one work of the batches held up to the first one to be
        retried alone (which goes alone when first), so that a kind's batches keep their order;
        then that crawl, once nothing is held before it; then the same after it."""
        queue, busy, out = self.held.pop(shard, []), set(busy), []
        while queue:
            cut = next((n for n, work in enumerate(queue) if not merges(work)), len(queue))
            before = queue[:cut]
            for kind in MERGED_KINDS:
                of_kind = [work for work in before if work.kind == kind]
                if kind in busy or not of_kind:
                    continue
                lone = [(shard, work.batch_id) in self.alone for work in of_kind]
                going = of_kind[:1] if lone[0] else of_kind[: lone.index(True) if True in lone else len(of_kind)]
                out.append(self._merged(shard, going))
                busy.add(kind)
                before = [work for work in before if all(work is not gone for gone in going)]
            if before or cut == len(queue):
                queue = before + queue[cut:]
                break
            out.append(queue[cut])  # a crawl: all that came before it has gone
            queue = queue[cut + 1 :]
        if queue:
            self.held[shard] = queue
        return out

    def _merged(self, shard: int, works: list[ShardWork]) -> ShardWork:
        """The one batch as it is, or the batches as one work: a reconcile names each account
        once, in the order first named; a rating keeps each batch's calls together (`parts`), so
        that if rating them together fails they are rated again batch by batch."""
        if len(works) == 1:
            self.alone.discard((shard, works[0].batch_id))
            return works[0]
        accounts = tuple(account for work in works for account in work.account_ids)
        rate = works[0].kind == "rate"
        merged = ShardWork(
            f"merged-{uuid.uuid4().hex}",
            works[0].kind,
            accounts if rate else tuple(dict.fromkeys(accounts)),
            None,
            tuple(call for work in works for call in work.calls),
            parts=tuple(len(work.calls) for work in works) if rate else (),
        )
        self.merged[merged.batch_id] = tuple(works)
        return merged

    def unmerge(self, shard: int, batch_id: str) -> tuple[ShardWork, ...]:
        """A merged work the shard died on or failed on: its batches, held again first in line,
        each to go alone. () if `batch_id` is no merged work."""
        works = self.merged.pop(batch_id, ())
        self.alone.update((shard, work.batch_id) for work in works)
        if works:
            self.held[shard] = [*works, *self.held.get(shard, [])]
        return works

    def waiting(self) -> int:
        return sum(len(works) for works in self.held.values())

    def batches_in(self, work: ShardWork) -> int:
        return len(self.merged.get(work.batch_id, (work,)))

    def reports(
        self,
        batch_id: str,
        done: Iterable[str],
        failed: Iterable[tuple[str, str]],
        not_done: Iterable[str],
        events: Iterable[tuple[str, str]] = (),
    ) -> list[BatchReport]:
        """The report of `batch_id` as reports of the batches it holds: itself unless merged.
        A merged work is forgotten at its first report (a late second one is a batch no one
        waits for any more, as for any other work)."""
        works = self.merged.pop(batch_id, None)
        if works is None:
            return [BatchReport(batch_id, tuple(done), tuple(failed), tuple(not_done), tuple(events))]
        split = split_rating if works[0].kind == "rate" else split_reconciling
        return split(works, list(done), list(failed), list(not_done), list(events))
