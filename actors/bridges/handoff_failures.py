"""How many times a message's own hand-off failed, so that a message is stored as poison after
its second failure and not before.

AMQP's `redelivered` flag cannot tell this: the broker sets it on every message it delivers
again for any reason, a batch put back during an outage or a node that stopped before
acknowledging among them. A message put back by an outage and then failing once would have
been stored as poison at its first failure, and the charge it carried left to a person to
replay. Kept per bridge, in memory, bounded: a restarted node (or another node of the cluster
taking the message) gives it at most one more try, never an endless loop.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

# Past this, the oldest first failures are forgotten and those messages get one more try. Above
# the most a bridge holds at once (the calls bridge's prefetch, 24,000), so that a failure of
# every message held still makes each poison at its second: about 8 MB.
REMEMBERED = 50_000


class HandOffFailures:
    def __init__(self, remembered: int = REMEMBERED):
        self._remembered = remembered
        self._failed_once: OrderedDict[bytes, None] = OrderedDict()

    def failed(self, routing_key: str, body: bytes) -> bool:
        """Notes a failed hand-off of this message; True when it is the second, time to store it
        as poison (and then it is forgotten: a copy published again starts afresh)."""
        key = _fingerprint(routing_key, body)
        if key in self._failed_once:
            del self._failed_once[key]
            return True
        self._failed_once[key] = None
        if len(self._failed_once) > self._remembered:
            self._failed_once.popitem(last=False)
        return False

    def succeeded(self, routing_key: str, body: bytes) -> None:
        if self._failed_once:  # (most of the time nothing has failed: no digest to take)
            self._failed_once.pop(_fingerprint(routing_key, body), None)


def _fingerprint(routing_key: str, body: bytes) -> bytes:
    return hashlib.blake2b(routing_key.encode("utf-8", "replace") + b"\0" + body, digest_size=16).digest()
