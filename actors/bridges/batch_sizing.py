"""How many messages a bridge's next batch may hold: about as many as the shards answered in
`answer_within_s` last time, between `smallest` and `largest`.

Why it moves: most of a batch's cost is per account in it (its context, its ledger views, its
standing, its write), not per message, so a backlog billed in batches of more calls per account
goes faster: calls on the embedded store 610-712 -> 1,890-2,040 calls/s (batches of 200
messages, then up to 2,000; bench.rating, 20,000 calls, 100 accounts). A fixed 2,000 would not
do on CouchDB: a slow spell there, with batches in flight queued behind each other, would near
the hand-off's 120 s timeout, after which the whole batch is handed off again. So the size
follows the time the shards took to answer the last batch: it grows at most twofold a batch,
falls at once to what fits, and starts again from the smallest after the shards were
unreachable or a batch failed. Without a backlog the size does not matter: a batch is cut by the
bridge's wait window long before it is full.

The time measured is the hand-off's, queueing behind the other batches in flight included: that
is the time a batch's messages wait unacknowledged. 20 s of it, a sixth of the hand-off's
timeout: on CouchDB three batches in flight of 200-400 messages (a call or two per account each)
often took past 5 s, so within 5 s the size stayed near the smallest and a backlog cost 2.2 store
requests a call (130 calls/s); within 20 s batches average about 1,000 messages, 0.8-1.1 requests
a call, 220-280 calls/s (bench.rating on CouchDB, 8,000-16,000 calls, 50 accounts, a fresh server
each). On the embedded store batches answer well within 5 s either way (1,703 and 1,732 calls/s,
20,000 calls). What it costs: an event for an account whose shard is billing such a batch waits
for it, a few seconds on CouchDB where it waited one or two.
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
