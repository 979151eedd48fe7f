"""Work the store refuses while it answers everything else.

StoreUnavailable means "the store is away": the work is handed back and done when it answers
again, never recorded as failed. But errors Kazbill cannot tell apart map to it too (an unexpected
500 on one database, the requests of one account timing out every time). Handed back for ever,
one such account stopped the batch it was in every time it was in one: the crawl of its reseller
and of every reseller after it, the document events batched with it, a whole batch of calls. And
nothing was stored for a person to see.

So when a piece of work meets StoreUnavailable, the store is asked something cheap about a
database every pass reads. If it answers, the refusal is the work's own: the work is handed back
(the batch goes on with the rest), and after REFUSALS_BEFORE_FAILURE refusals in a row it is
stored as a failure, replayable (`kazbill failures replay`), and the batch is done without it.
Counted in the shard's memory: the same account always reaches the same shard, and a restarted
shard starts counting again (a few more tries, never an endless loop).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.ports import DocumentStore, StoreUnavailable

# In a row: each is a hand-back the caller comes back from later (a crawl's next tick, 30 s; an
# event's or a call's redelivery after the bridge's pause), so five span a minute or more, while
# a store partly away for a moment (a node restarting) has mended.
REFUSALS_BEFORE_FAILURE = 5
REMEMBERED = 10_000  # pieces of work being refused at once; past it, the oldest start again


class StoreRefusals:
    """How many times in a row the store refused each piece of work (thread-safe: a batch bills
    several accounts at once)."""

    def __init__(self, before_failure: int = REFUSALS_BEFORE_FAILURE, remembered: int = REMEMBERED):
        self.before_failure = before_failure
        self._remembered = remembered
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def refused(self, key: str) -> bool:
        """Notes one more refusal of `key`; True when it is the one that makes it a failure (it
        is forgotten then: replayed, it starts afresh)."""
        with self._lock:
            count = self._counts.pop(key, 0) + 1
            if count >= self.before_failure:
                return True
            self._counts[key] = count
            if len(self._counts) > self._remembered:
                self._counts.popitem(last=False)
            return False

    def answered(self, key: str) -> None:
        if self._counts:  # (nearly always empty: no lock to take)
            with self._lock:
                self._counts.pop(key, None)

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)


def store_answers(store: DocumentStore) -> bool:
    """Whether the store answers about the accounts database (every pass reads it; on a CouchDB
    cluster, its information is gathered from every shard range)."""
    try:
        store.database_exists(ACCOUNTS_DB)
    except StoreUnavailable:
        return False
    return True


def refusal_reason(times: int, error: StoreUnavailable) -> str:
    return f"the store refused this work {times} times in a row while answering the rest: {error}"[:500]
