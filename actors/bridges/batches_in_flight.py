"""Batches of a bridge being handed off at once: while the shards bill one, the next is
collected and handed off."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class BatchesInFlight:
    """At most `limit` batches processed at once; the first failure of one is raised to the
    collecting loop, which then stops taking messages (the connection is started afresh)."""

    def __init__(self, limit: int):
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None

    async def take_slot(self) -> None:
        """Waits until fewer than `limit` batches are in flight, and holds that place for the
        batch about to be collected (start() or give_back() frees it)."""
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            raise self._failure

    def give_back(self) -> None:
        self._slots.release()  # nothing came in the window

    def start(self, processing: Coroutine[Any, Any, None]) -> None:
        async def run() -> None:
            try:
                await processing
            except Exception as error:  # noqa: BLE001 - raised again by the collecting loop
                self._failure = self._failure or error
            finally:
                self._slots.release()

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish(self) -> None:
        """Waits for the batches in flight; raises the first failure."""
        await asyncio.gather(*self._tasks)
        if self._failure is not None:
            raise self._failure

    async def abandon(self) -> None:
        """On the way out after a failure: the others still settle their messages (ack or
        nack) while the channel is open."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
