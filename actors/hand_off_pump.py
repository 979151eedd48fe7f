"""Several batches in flight to the actor system at once, from any number of threads.

HandOffClient tells a batch and waits for its answer before it can tell the next. A bridge that
acknowledges a batch only once it is billed then leaves the shards idle while it collects the
next messages and waits out its window: measured with 40,000 Kazoo events queued, each shard was
busy a quarter of the time (docs/benchmarks.md). The pump owns the client's ActorSystem in one
thread of its own (Thespian's external system is not made for concurrent callers): each caller's
batch is told as soon as it comes, and each answer, matched by batch id, goes back to the caller
waiting for it. A caller still waits for its own batch, so a message is still acknowledged only
after its accounts were billed; what changes is that the next batch need not wait for it.

The shards stay the single writers of their accounts: batches in flight together that name the
same account reach its one shard, which works through its mailbox one message at a time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from actors.hand_off import HandOffTimeout, HandOffUnavailable
from actors.messages import HandOff, HandOffDone, WorkKind
from actors.system import HandOffClient, admin_listening
from bookkeeper.domain.calls import FinishedCall

log = logging.getLogger("kazbill.handoff")

LISTEN_S = 0.02  # how long the pump listens for answers before it looks for new batches again
PROBE_S = 1.0  # how often, while it waits in vain, it checks that the actor system is still there
PUMP_MARGIN_S = 30.0


@dataclass
class _Waiting:
    batch: HandOff
    deadline: float
    answer: Future[HandOffDone] = field(default_factory=Future)


_STOP = object()


class HandOffPump:
    """HandOffClient's hand_off and hand_off_calls, callable from several threads at once."""

    def __init__(self, client: HandOffClient, listen_s: float = LISTEN_S):
        self.client = client
        self.listen_s = listen_s
        self._requests: queue.SimpleQueue[_Waiting | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def hand_off(self, kind: WorkKind, account_ids: Sequence[str], day: str | None = None) -> HandOffDone:
        return self._send(HandOff(f"{kind}-{uuid.uuid4().hex}", kind, tuple(account_ids), day))

    def hand_off_calls(self, calls: Sequence[FinishedCall]) -> HandOffDone:
        return self._send(
            HandOff(f"rate-{uuid.uuid4().hex}", "rate", tuple(c.account_id for c in calls), calls=tuple(calls))
        )

    def close(self) -> None:
        """Fails what still waits (HandOffUnavailable: its messages go back to the queue)."""
        with self._start_lock:
            self._closed = True
            if self._thread is not None:
                self._requests.put(_STOP)
                self._thread.join(timeout=5.0)

    def _send(self, batch: HandOff) -> HandOffDone:
        waiting = _Waiting(batch, time.monotonic() + self.client.timeout_s)
        with self._start_lock:
            if self._closed:
                raise HandOffUnavailable("the hand-off pump was closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_guarded, name="handoff-pump", daemon=True)
                self._thread.start()
            self._requests.put(waiting)
        try:  # the pump settles every request (an answer, a timeout, unavailable); the margin is for a dead pump
            return waiting.answer.result(timeout=self.client.timeout_s + PUMP_MARGIN_S)
        except FutureTimeout:
            raise HandOffTimeout(f"the hand-off pump did not settle batch {batch.batch_id}") from None

    # ------------------------------------------------------------------ the pump's own thread

    def _run_guarded(self) -> None:
        waiting: dict[str, _Waiting] = {}
        try:
            self._run(waiting)
        except Exception as error:  # noqa: BLE001 - a bug here must not leave callers waiting
            log.exception("the hand-off pump stopped; the next batch starts it again")
            self._fail_all(waiting, HandOffUnavailable(f"the hand-off pump stopped: {error}"))
            with self._start_lock:
                self._thread = None

    def _run(self, waiting: dict[str, _Waiting]) -> None:
        last_probe = time.monotonic()
        while self._tell_new(waiting, block=not waiting):
            if not waiting:
                continue
            try:
                answer = self.client.system.listen(self.listen_s)
            except Exception as error:  # noqa: BLE001 - whatever broke the system, the callers learn it
                self._fail_all(waiting, HandOffUnavailable(f"listening to the actor system failed: {error}"))
                continue
            if isinstance(answer, HandOffDone) and answer.batch_id in waiting:
                waiting.pop(answer.batch_id).answer.set_result(answer)
            elif answer is not None:
                log.debug("discarding a late or unrelated answer: %r", answer)
            now = time.monotonic()
            self._expire(waiting, now)
            if answer is None and self.client.admin_port and now - last_probe >= PROBE_S:
                last_probe = now
                if not admin_listening(self.client.admin_port):
                    port = self.client.admin_port
                    self._fail_all(waiting, HandOffUnavailable(f"the actor system on port {port} is gone"))
        closed = HandOffUnavailable("the hand-off pump was closed")
        self._fail_all(waiting, closed)
        while True:  # nothing is put after _STOP (close() holds the lock), but none may hang
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Waiting):
                item.answer.set_exception(closed)

    def _expire(self, waiting: dict[str, _Waiting], now: float) -> None:
        for batch_id in [batch_id for batch_id, item in waiting.items() if item.deadline <= now]:
            limit = self.client.timeout_s
            waiting.pop(batch_id).answer.set_exception(
                HandOffTimeout(f"no answer to batch {batch_id} within {limit:g}s")
            )

    def _tell_new(self, waiting: dict[str, _Waiting], *, block: bool) -> bool:
        """Tells every batch that came meanwhile (waiting for one when nothing is in flight);
        False once the pump is closed."""
        try:
            item = self._requests.get(timeout=PROBE_S) if block else self._requests.get_nowait()
        except queue.Empty:
            return True
        while True:
            if item is _STOP:
                return False
            assert isinstance(item, _Waiting)
            try:
                self.client.system.tell(self.client.supervisor, item.batch)
                waiting[item.batch.batch_id] = item
            except Exception as error:  # noqa: BLE001 - not told: the caller keeps its messages
                item.answer.set_exception(HandOffUnavailable(f"telling the actor system failed: {error}"))
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                return True

    @staticmethod
    def _fail_all(waiting: dict[str, _Waiting], error: HandOffUnavailable) -> None:
        for item in waiting.values():
            item.answer.set_exception(error)
        waiting.clear()
