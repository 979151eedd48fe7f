"""When a bridge's batch is complete: at its size, `batch_wait_s` after its first message, or once
`quiet_s` passed without a message. A backlog's messages come back to back from the broker's
prefetch and fill batches whole; a lone Kazoo change or call end goes within `quiet_s` instead
of waiting out a window (it waited 0-200 ms: docs/benchmarks.md, session 53).

The gap is measured on the bridge's event loop, which other consumers share: a loop held up past
the timer (another bridge parsing its batch) would find messages that came meanwhile, and they
still go with the batch instead of cutting a backlog's batch short."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
IDLE_LOOK_S = 0.5  # idle, the bridge's loop comes round at least this often (to see whether to stop)


async def collect_batch(
    arrived: asyncio.Queue[T],
    pending: list[T],
    size: int,
    *,
    batch_wait_s: float,
    quiet_s: float,
    taken: Callable[[T], None] = lambda message: None,
) -> None:
    """Moves messages from `arrived` to `pending` (the caller's, so that what was taken is the
    caller's to settle if this is cancelled), each told to `taken`, until the batch is complete.
    Returns with `pending` empty when no message came within min(batch_wait_s, IDLE_LOOK_S)."""
    deadline = time.monotonic() + min(batch_wait_s, IDLE_LOOK_S)
    while len(pending) < size:
        wait = deadline - time.monotonic()
        if pending:
            wait = min(wait, quiet_s)
        if wait > 0:
            try:
                message = await asyncio.wait_for(arrived.get(), wait)
            except TimeoutError:
                pass
            else:
                if not pending:
                    deadline = time.monotonic() + batch_wait_s
                taken(message)
                pending.append(message)
                continue
        while len(pending) < size and not arrived.empty():  # came while the timer was late
            message = arrived.get_nowait()
            taken(message)
            pending.append(message)
        return
