"""Rating work for a shard that is busy rating waits, and goes to it as one piece of work. Pure.

Most of what rating a batch of calls costs is per account in it, not per call: its context, its
earlier debits and balance (ledger views), its rollover, its write; some eight store requests on
CouchDB whether the account has one call in the batch or fifty (batch_rating.py). The AMQP bridge
keeps several batches in flight, and how many messages each holds depends on what the broker had
delivered when the bridge cut it: after a big batch is acknowledged a small one often follows
(measured on CouchDB: batches of 91-2,000 messages in turn, each taking about as long). Handed
to the shard one after another, each paid every account's requests again. Held while the shard
rates the one before and then merged, they pay them once per round, however the bridge cut them:
the shard rates whatever has come since it last looked, as Erlang's group commit does.

The merged work's report is split back into one report per batch it was made of (split_report),
so each bridge still learns about its own batch, and still acknowledges it only once its calls
are rated. Merging never delays work: a shard with no rating in hand gets a batch at once.
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


@dataclass
class RateMerging:
    held: dict[int, list[ShardWork]] = field(default_factory=dict)  # per shard, in arrival order
    merged: dict[str, tuple[ShardWork, ...]] = field(default_factory=dict)  # merged id -> its batches

    def hold(self, shard: int, work: ShardWork) -> None:
        self.held.setdefault(shard, []).append(work)

    def next_for(self, shard: int) -> ShardWork | None:
        """What the shard rates next: the one batch held, or the held batches as one work."""
        works = self.held.pop(shard, [])
        if len(works) <= 1:
            return works[0] if works else None
        merged = ShardWork(
            f"merged-{uuid.uuid4().hex}",
            "rate",
            tuple(account for work in works for account in work.account_ids),
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
        return split_report(works, list(done), list(failed), list(not_done), list(events))


def split_report(
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
