"""Reading a view (or any listing) until it shows what the test just wrote.

On one server the first read is the answer. On a CouchDB cluster a view answers from one copy of
each shard, and the write answered once a quorum of copies had it: the copy the view reads may
have it a moment later. Kazbill's passes that read such listings (the mailer's, the document
workers', the AMQP bridge's) find a late entry at their next pass; a test that runs one pass
right after the write waits for the listing first. The deadline only ends a wait that would
otherwise never end: the caller's assertion then says what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEADLINE_S = 120


def listed(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + DEADLINE_S
    found = read()
    while not done(found) and time.monotonic() < deadline:
        time.sleep(0.05)
        found = read()
    return found
