"""What a caller of the actor system is told when a hand-off did not go through: errors raised on
the caller's side (they never travel in a message), shared by the system's client and the
cluster's ownership, which must not import each other."""

from __future__ import annotations


class HandOffUnavailable(Exception):
    """The batch was not (entirely) applied for a reason that passes: the store or the actor
    system is unreachable. The caller keeps the batch and tries again later; this is never a
    reason to call a message poison."""


class HandOffTimeout(HandOffUnavailable):
    """The actor system did not answer a batch in time."""
