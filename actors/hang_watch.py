"""Shards that stop answering. A shard given work that reports nothing for the work deadline is
taken for hung (an endless loop, a lock never released, a request with no timeout) and killed, so
that the supervisor restarts it and hands the work queued behind on. The work it hung on fails at
once, stored for a person: unlike a death, a hang is not tried again, as a second deadline would
outlast the bridge's wait for the answer (config_values._work_deadline), the bridge would put the
event back, and it would hang the shard again. A merged work is split and each batch tried alone.

Without this, a hung shard's accounts stop billing while its process looks alive, and every batch
routed to it waits out the bridge's hand-off timeout, is requeued, comes back and waits again,
for ever. A death is noticed by Thespian (ChildActorExited); a hang only by the clock.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.messages import ShardWork, StartService

log = logging.getLogger("kazbill.supervisor")
HANG_CHECK = "hang-check"
HUNG = "shards:hung"  # the supervisor's count of shards killed for hanging (the metrics' too)


@dataclass
class ShardProgress:
    """Since when each busy shard has shown no progress. Pure: the caller says what time it is.

    Progress is an answer: a busy shard's clock starts when it is given work while idle and again
    at each answer it gives while more is queued, so a shard working through a long queue is
    never taken for hung, only one that sits on a single piece of work."""

    deadline_s: float
    _since: dict[int, float] = field(default_factory=dict)

    def given(self, shard: int, now: float) -> None:
        self._since.setdefault(shard, now)

    def answered(self, shard: int, *, still_busy: bool, now: float) -> None:
        if still_busy:
            self._since[shard] = now
        else:
            self._since.pop(shard, None)

    def forget(self, shard: int) -> None:
        """Being stopped: not looked at again until its successor is given the work."""
        self._since.pop(shard, None)

    def overdue(self, now: float) -> list[int]:
        return [shard for shard, since in self._since.items() if now - since > self.deadline_s]


def check_every(deadline_s: float) -> float:
    """How often the clock is looked at: a tenth of the deadline (a hang is noticed within 10%
    of it), and at least every 5 s."""
    return min(5.0, max(0.05, deadline_s / 10))


def why_failed(hung: bool, progress: ShardProgress | None) -> str:
    """Why the work a shard stopped on is failed, as the failure record says it."""
    if hung and progress is not None:
        return f"the shard hung on this work (no answer in {progress.deadline_s:g}s) and was killed"
    return "the shard process died twice on this work"


class HangWatch:
    """Mixed into the supervisor (after the actor class, whose `wakeupAfter` it uses)."""

    config: StartService | None
    in_flight: dict[int, dict[str, ShardWork]]
    shard_pids: dict[int, int]
    counts: Counter[str]
    giving_up: bool
    stopping: bool
    wakeupAfter: Callable[..., None]
    progress: ShardProgress | None
    stopped_hung: dict[int, str]  # shard -> the batch it was killed on, until its successor is up

    def _start_hang_watch(self) -> None:
        deadline = self.config.work_deadline_s if self.config is not None else None
        self.progress = ShardProgress(deadline) if deadline else None
        if self.progress is not None:
            self.wakeupAfter(check_every(self.progress.deadline_s), payload=HANG_CHECK)

    def _hang_check_tick(self) -> None:
        if self.progress is None:
            return
        if not (self.giving_up or self.stopping):
            for index in self.progress.overdue(time.monotonic()):
                if index not in self.stopped_hung:  # (killed already: its exit is on the way)
                    self._stop_hung(index)
        self.wakeupAfter(check_every(self.progress.deadline_s), payload=HANG_CHECK)

    def _stop_hung(self, index: int) -> None:
        assert self.progress is not None
        works = self.in_flight.get(index) or {}
        if not works:
            self.progress.forget(index)
            return
        batch_id = next(iter(works))  # a shard takes its work in the order it was sent
        pid = self.shard_pids.get(index)
        if pid is None or pid == os.getpid():
            # It has not said it is ready (hung while starting), or it runs in this process (an
            # in-process system of the tests): there is no process of its own to kill. Said once
            # a deadline.
            log.error("shard %d has answered nothing for %gs and cannot be killed", index, self.progress.deadline_s)
            self.progress.answered(index, still_busy=True, now=time.monotonic())
            return
        log.error(
            "shard %d (pid %d) has answered nothing for %gs, on batch %s (%d accounts): killing it; "
            "it is restarted and its work handed on",
            index,
            pid,
            self.progress.deadline_s,
            batch_id,
            len(works[batch_id].account_ids),
        )
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # died meanwhile: its ChildActorExited is on the way
            pass
        except OSError as error:  # not ours to kill: said again a deadline later
            log.error("shard %d (pid %d) could not be killed: %s", index, pid, error)
            self.progress.answered(index, still_busy=True, now=time.monotonic())
            return
        self.counts[HUNG] += 1
        self.stopped_hung[index] = batch_id
        self.progress.forget(index)

    def _clock_restarts(self, index: int) -> None:
        """The shard answered, took work back or came up again: its silence is counted from now."""
        if self.progress is not None:
            self.progress.answered(index, still_busy=bool(self.in_flight.get(index)), now=time.monotonic())
