"""Work the store refuses while it answers everything else.

StoreUnavailable means "the store is away": the work is handed back and done when it answers
again, never recorded as failed. But errors Kazbill cannot tell apart map to it too (an unexpected
500 on one database, the requests of one account timing out every time). Handed back for ever,
one such account stopped the batch it was in every time it was in one: the crawl of its reseller
and of every reseller after it, the document events batched with it, a whole batch of calls. And
nothing was stored for a person to see.

So when a piece of work meets StoreUnavailable, the store is asked something cheap about a
database every pass reads. If it answers and nothing else in the batch was refused, the refusal
is the work's own: it is handed back while the rest of the batch goes on, and once it has been
refused REFUSALS_BEFORE_FAILURE times in a row over at least `after_s` (KAZBILL_STORE_REFUSED_FOR,
five minutes), it is stored as a failure, replayable (`kazbill failures replay`), and the batch
is done without it. Anything that looks like the store's own trouble (the probe unanswered, a
second refusal in one batch) is an outage as before, and starts every count again: a store
flapping, or partly away (one node of a cluster), is never turned into failures.

Counted in the shard's memory: the same account always reaches the same shard, and a restarted
shard starts counting again (a few more tries, never an endless loop).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.ports import DocumentStore, StoreUnavailable

REFUSALS_BEFORE_FAILURE = 5
REFUSED_FOR_S = 300.0
REMEMBERED = 10_000  # pieces of work being refused at once; past it, the oldest start again


class StoreRefusals:
    """How many times in a row, since when, the store refused each piece of work (thread-safe:
    a batch bills several accounts at once)."""

    def __init__(
        self,
        before_failure: int = REFUSALS_BEFORE_FAILURE,
        after_s: float = REFUSED_FOR_S,
        *,
        remembered: int = REMEMBERED,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.before_failure = before_failure
        self.after_s = after_s
        self._remembered = remembered
        self._monotonic = monotonic
        self._refused: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (times, first at)
        self._lock = threading.Lock()

    def refused(self, key: str) -> bool:
        """Notes one more refusal of `key`; True when it has been refused long enough to be
        stored as a failure (the caller then calls `answered` once it is stored)."""
        now = self._monotonic()
        with self._lock:
            times, first_at = self._refused.pop(key, (0, now))
            self._refused[key] = (times + 1, first_at)
            if len(self._refused) > self._remembered:
                self._refused.popitem(last=False)
            return times + 1 >= self.before_failure and now - first_at >= self.after_s

    def answered(self, key: str) -> None:
        """The work went through (or was stored as a failure): its count starts again."""
        if self._refused:  # (nearly always empty: no lock to take)
            with self._lock:
                self._refused.pop(key, None)

    def store_in_trouble(self) -> None:
        """The store itself failed: what was refused before may have been that too."""
        if self._refused:
            with self._lock:
                self._refused.clear()

    def count(self, key: str) -> int:
        with self._lock:
            return self._refused.get(key, (0, 0.0))[0]


def store_answers(store: DocumentStore) -> bool:
    """Whether the store answers about the accounts database (every pass reads it; on a CouchDB
    cluster, its information is gathered from every shard range)."""
    try:
        store.database_exists(ACCOUNTS_DB)
    except StoreUnavailable:
        return False
    return True


def refusal_reason(refusals: StoreRefusals, error: StoreUnavailable) -> str:
    """The failure's reason: the store's own words, not its address (a reseller's console shows
    its customers' failures)."""
    return (
        f"the store refused this work {refusals.before_failure} times in a row over "
        f"{refusals.after_s:.0f}s while answering the rest: {error.reason}"
    )[:500]
