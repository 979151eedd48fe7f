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

The merged work's report is split back into one report per batch it was made of (split_rating,
split_reconciling),
so each bridge still learns about its own batch, and still acknowledges it only once its calls
are rated or its accounts billed. Merging never delays work: a shard with no work of the kind in
hand gets a batch at once.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from actors.messages import ShardWork


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    not_done: tuple[str, ...]
    events: tuple[tuple[str, str], ...]


MERGED_KINDS = ("rate", "reconcile")


def merges(work: ShardWork) -> bool:
    return work.kind in MERGED_KINDS and work.day is None


@dataclass
class WorkMerging:
    held: dict[tuple[int, str], list[ShardWork]] = field(default_factory=dict)  # per shard and kind, in order
    merged: dict[str, tuple[ShardWork, ...]] = field(default_factory=dict)  # merged id -> its batches

    def hold(self, shard: int, work: ShardWork) -> None:
        self.held.setdefault((shard, work.kind), []).append(work)

    def next_for(self, shard: int, kind: str) -> ShardWork | None:
        """What the shard does next of `kind`: the one batch held, or the held batches as one
        work (a reconcile names each account once, in the order first named)."""
        works = self.held.pop((shard, kind), [])
        if len(works) <= 1:
            return works[0] if works else None
        accounts = tuple(account for work in works for account in work.account_ids)
        merged = ShardWork(
            f"merged-{uuid.uuid4().hex}",
            works[0].kind,
            accounts if kind == "rate" else tuple(dict.fromkeys(accounts)),
            None,
            tuple(call for work in works for call in work.calls),
        )
        self.merged[merged.batch_id] = tuple(works)
        return merged

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


def split_reconciling(
    works: Sequence[ShardWork],
    done: Sequence[str],
    failed: Sequence[tuple[str, str]],
    not_done: Sequence[str],
    events: Sequence[tuple[str, str]],
) -> list[BatchReport]:
    """Each batch's share of a merged reconcile: one pass billed each account for every batch
    that named it, so each has the account's outcome and its events; an account the report does
    not speak of is handed back (billed again rather than taken as done)."""
    finished = set(done)
    reasons = dict(failed)
    handed_back = set(not_done)
    reports = []
    for work in works:
        named = list(dict.fromkeys(work.account_ids))
        its = set(named)
        reports.append(
            BatchReport(
                work.batch_id,
                tuple(a for a in named if a in finished and a not in reasons and a not in handed_back),
                tuple((a, reasons[a]) for a in named if a in reasons and a not in handed_back),
                tuple(a for a in named if a in handed_back or (a not in finished and a not in reasons)),
                tuple((name, account) for name, account in events if account in its),
            )
        )
    return reports


def split_rating(
    works: Sequence[ShardWork],
    done: Sequence[str],
    failed: Sequence[tuple[str, str]],
    not_done: Sequence[str],
    events: Sequence[tuple[str, str]],
) -> list[BatchReport]:
    """Each work's share of a merged report. A rating report names one account per call (done,
    failed with its reason, or handed back) and may add an account whose standing could not be
    billed, handed back or failed. An account handed back is handed back in every batch that has
    its calls (its calls are rated again at the redelivery: those already debited are duplicates);
    the other calls of an account are done, then failed, as many as the report says; a failure or
    an event the calls do not account for goes with the first batch that has the account."""
    handed_back = set(not_done)
    done_left = Counter(done)
    reasons: dict[str, list[str]] = defaultdict(list)
    for account, reason in failed:
        reasons[account].append(reason)
    shares: list[tuple[list[str], list[tuple[str, str]], list[str]]] = []
    for work in works:
        share: tuple[list[str], list[tuple[str, str]], list[str]] = ([], [], [])
        for account in work.account_ids:
            if account in handed_back:
                share[2].append(account)
            elif done_left[account] > 0:
                done_left[account] -= 1
                share[0].append(account)
            elif reasons[account]:
                share[1].append((account, reasons[account].pop(0)))
            else:  # a call the report does not speak of: rated again rather than taken as done
                share[2].append(account)
        shares.append(share)
    first_with: dict[str, int] = {}
    for position, work in enumerate(works):
        for account in work.account_ids:
            first_with.setdefault(account, position)
    for account, left in reasons.items():
        shares[first_with.get(account, 0)][1].extend((account, reason) for reason in left)
    for account in handed_back - set(first_with):  # not one of the calls' accounts: kept, not lost
        shares[0][2].append(account)
    events_of: list[list[tuple[str, str]]] = [[] for _ in works]
    for name, account in events:
        events_of[first_with.get(account, 0)].append((name, account))
    return [
        BatchReport(work.batch_id, tuple(share[0]), tuple(share[1]), tuple(share[2]), tuple(events_of[position]))
        for position, (work, share) in enumerate(zip(works, shares, strict=True))
    ]
