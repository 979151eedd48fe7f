"""A merged work's report, split back into one report per batch it was made of. Pure.

See work_merging.py for why work is merged. A rating report names one account per call (done,
failed with its reason, or handed back) and may add accounts whose standing could not be billed;
a reconcile report names each account once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from actors.messages import ShardWork


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    not_done: tuple[str, ...]
    events: tuple[tuple[str, str], ...]


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
    an event the calls do not account for goes with the first batch that has the account, and an
    account handed back that placed none of the calls (a reseller they debited) with every batch."""
    handed_back = set(not_done)
    reasons: dict[str, list[str]] = defaultdict(list)
    for account, reason in failed:
        reasons[account].append(reason)
    shares = _call_shares(works, handed_back, Counter(done), reasons)
    first_with: dict[str, int] = {}
    for position, work in enumerate(works):
        for account in work.account_ids:
            first_with.setdefault(account, position)
    for account, left in reasons.items():
        shares[first_with.get(account, 0)][1].extend((account, reason) for reason in left)
    for account in sorted(handed_back - set(first_with)):
        # Not one of the calls' accounts: a reseller the calls debited whose standing could not
        # be billed. Which batch's calls debited it is not known here, so every batch is
        # delivered again (its calls are duplicates then; its standing is billed).
        for share in shares:
            share[2].append(account)
    events_of: list[list[tuple[str, str]]] = [[] for _ in works]
    for name, account in events:
        events_of[first_with.get(account, 0)].append((name, account))
    return [
        BatchReport(work.batch_id, tuple(share[0]), tuple(share[1]), tuple(share[2]), tuple(events_of[position]))
        for position, (work, share) in enumerate(zip(works, shares, strict=True))
    ]


Share = tuple[list[str], list[tuple[str, str]], list[str]]  # done, failed, handed back


def _call_shares(
    works: Sequence[ShardWork], handed_back: set[str], done_left: Counter[str], reasons: dict[str, list[str]]
) -> list[Share]:
    """Each work's calls, each taken as handed back, done or failed, as the report says (what it
    takes of `done_left` and `reasons` is gone from them)."""
    shares: list[Share] = []
    for work in works:
        share: Share = ([], [], [])
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
    return shares
