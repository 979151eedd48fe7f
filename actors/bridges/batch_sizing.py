"""How many messages a bridge's next batch may hold: about as many as the shards answered in
`answer_within_s` last time, between `smallest` and `largest`.

Why it moves: most of a batch's cost is per account in it (its context, its ledger views, its
standing, its write), not per message, so a backlog billed in batches of more calls per account
goes faster: calls on the embedded store 610-712 -> 1,890-2,040 calls/s (batches of 200
messages, then up to 2,000; bench.rating, 20,000 calls, 100 accounts). A fixed 2,000 would not
do on CouchDB: a slow spell there, with batches in flight queued behind each other, would near
the hand-off's 120 s timeout, after which the whole batch is handed off again. So the size
follows the time the shards took to answer the last batch: it grows at most twofold a batch,
shrinks at once when a batch is late, and starts again from the smallest after the shards were
unreachable or a batch failed. Without a backlog the size does not matter: a batch is cut by the
bridge's wait window (or a quiet gap) long before it is full.

The time measured is the hand-off's, queueing behind the other batches in flight included: that
is the time a batch's messages wait unacknowledged. 20 s of it, a sixth of the hand-off's
timeout. (Until 6 December the code said 5 s while this text and docs/operations.md said 20: the
change was described and measured, and its line never committed.) A batch answered late shrinks
the size by as much as it was late; one answered in time lets it grow to twice that batch, never
lower it: the bridge cuts a batch at a quiet gap or its wait window as well as at the size, so after a
big batch is acknowledged a small one often follows, and it waits behind the big ones still in
flight. Taken for the shards' pace, such a batch (86 messages answered in 3.4 s on CouchDB, the
largest raised to 8,000 for the trial) brought the size down to 510. What it costs: an event for
an account whose shard is billing such a batch waits for it, a few seconds on CouchDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchSizing:
    smallest: int = 200
    largest: int = 2000
    answer_within_s: float = 20.0
    size: int = field(init=False)
    # The size when the batches began to come back late: each late answer scales it, not the size
    # the previous late answer left (six batches in flight late alike would shrink it six times).
    _late_from: int | None = field(default=None, init=False, repr=False)

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
        """A batch of `messages` was answered in `seconds`: the next one's size. Late, the size
        shrinks by as much as the batch was late (its time is mostly the queue of batches in
        flight before it, which is what the size sets); in time, it may reach twice the batch just
        answered, and a small batch answered in time never lowers it: the bridge cuts a batch at
        a quiet gap or its wait window as well as at the size, and taken for the shards' pace such a batch, queued
        behind big ones, shrank the next batch to a few hundred messages (bench.rating on CouchDB:
        86 messages in 3.4 s made it fall to 510)."""
        if messages <= 0 or not seconds >= 0:  # (a clock that went back, or NaN: nothing learnt)
            return
        if seconds > self.answer_within_s:
            self._late_from = self._late_from or self.size
            self.size = max(self.smallest, min(self.size, int(self._late_from * self.answer_within_s / seconds)))
        else:
            self._late_from = None
            self.size = max(self.smallest, min(self.largest, 2 * self.size, max(self.size, 2 * messages)))

    def reset(self) -> None:
        """Start again from the smallest: the shards did not answer (a timeout, a restart), or a
        batch failed and is being handed off message by message (a poison message in a batch of
        2,000 would cost 2,000 hand-offs again at its redelivery)."""
        self.size = self.smallest
        self._late_from = None
