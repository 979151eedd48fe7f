"""How many messages a bridge's next batch may hold: about as many as the shards answered in
`answer_within_s` last time, between `smallest` and `largest`.

Why it moves: most of a batch's cost is per account in it (its context, its ledger views, its
standing, its write), not per message, so a backlog billed in batches of more calls per account
goes faster: calls on the embedded store 610-712 -> 1,890-2,040 calls/s (batches of 200
messages, then up to 2,000; bench.rating, 20,000 calls, 100 accounts), on CouchDB 80 -> 111-142
calls/s and 4.8 -> 2.8-3.5 store requests a call (2,000 calls, 50 accounts). A fixed 2,000 would
not do on CouchDB: a shard there bills about a hundred calls a second, so such a batch takes ten
seconds or more, and with batches in flight queued behind each other a slow spell nears the
hand-off's 120 s timeout, after which the whole batch is handed off again. So the size follows
the time the shards took to answer the last batch: it grows at most twofold a batch, falls at
once to what fits, and starts again from the smallest after the shards were unreachable or a
batch failed. Without a backlog the size does not matter: a batch is cut by the bridge's wait
window long before it is full.

The time measured is the hand-off's, queueing behind other batches in flight included: that is
the time a batch's messages wait unacknowledged, which is what must stay short.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchSizing:
    smallest: int = 200
    largest: int = 2000
    answer_within_s: float = 5.0
    size: int = field(init=False)

    def __post_init__(self) -> None:
        if not 0 < self.smallest <= self.largest:
            raise ValueError(f"batch sizes: need 0 < smallest <= largest, got {self.smallest}, {self.largest}")
        if self.answer_within_s <= 0:
            raise ValueError(f"answer_within_s must be positive, got {self.answer_within_s}")
        self.size = self.smallest

    @classmethod
    def fixed(cls, size: int) -> BatchSizing:
        return cls(smallest=size, largest=size)

    def answered(self, messages: int, seconds: float) -> None:
        """A batch of `messages` was answered in `seconds`: the next one's size."""
        if messages <= 0:
            return
        fits = self.largest if seconds <= 0 else min(self.largest, messages * self.answer_within_s / seconds)
        self.size = max(self.smallest, min(self.largest, 2 * self.size, int(fits)))

    def reset(self) -> None:
        """Start again from the smallest: the shards did not answer (a timeout, a restart), or a
        batch failed and is being handed off message by message (a poison message in a batch of
        2,000 would cost 2,000 hand-offs again at its redelivery)."""
        self.size = self.smallest
