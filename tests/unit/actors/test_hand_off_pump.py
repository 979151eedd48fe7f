"""The hand-off pump (actors/hand_off_pump.py): callers in several threads each get their own
batch's answer, batches are told without waiting for earlier answers, and no caller is left
waiting: a batch unanswered in time, a system that cannot be told or listened to, and a closed
pump each end its callers' wait with the error that says why. A stand-in actor system here; the
real one behind every `kazbill serve` of the integration tests, whose AMQP bridge hands off
through the pump."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.hand_off import HandOffTimeout, HandOffUnavailable
from actors.hand_off_pump import HandOffPump
from actors.messages import HandOff, HandOffDone
from actors.system import HandOffClient


class StandInSystem:
    """Told batches are answered only when the test says so, in any order."""

    def __init__(self) -> None:
        self.told: queue.SimpleQueue[HandOff] = queue.SimpleQueue()
        self.answers: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.refuse_tell = False

    def tell(self, _supervisor: object, batch: HandOff) -> None:
        if self.refuse_tell:
            raise OSError("connection refused")
        self.told.put(batch)

    def listen(self, timeout_s: float) -> object | None:
        try:
            answer = self.answers.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if isinstance(answer, Exception):
            raise answer
        return answer

    def answer(self, batch: HandOff) -> None:
        self.answers.put(HandOffDone(batch.batch_id, batch.account_ids, (), ()))


def pump_of(system: StandInSystem, timeout_s: float = 30.0) -> HandOffPump:
    return HandOffPump(HandOffClient(system, object(), timeout_s))  # type: ignore[arg-type]


def test_two_callers_have_their_batches_in_flight_at_once_and_each_gets_its_own_answer():
    system = StandInSystem()
    pump = pump_of(system)
    with ThreadPoolExecutor(2) as callers:
        first = callers.submit(pump.hand_off, "reconcile", ["a" * 32])
        second = callers.submit(pump.hand_off, "reconcile", ["b" * 32])
        told = [system.told.get(timeout=10), system.told.get(timeout=10)]  # both told, none answered yet
        assert not first.done() and not second.done()
        for batch in reversed(told):  # answered in the other order
            system.answer(batch)
        assert first.result(timeout=10).done == ("a" * 32,)
        assert second.result(timeout=10).done == ("b" * 32,)
    pump.close()


def test_an_answer_to_nobody_waiting_is_dropped_and_the_caller_still_gets_its_own():
    system = StandInSystem()
    pump = pump_of(system)
    with ThreadPoolExecutor(1) as callers:
        waiting = callers.submit(pump.hand_off, "crawl", ["c" * 32], "2026-03-02")
        batch = system.told.get(timeout=10)
        assert batch.kind == "crawl" and batch.day == "2026-03-02"
        system.answers.put(HandOffDone("reconcile-long-gone", (), (), ()))  # a timed-out batch's late answer
        system.answers.put("something else entirely")
        system.answer(batch)
        assert waiting.result(timeout=10).batch_id == batch.batch_id
    pump.close()


def test_a_batch_unanswered_in_time_ends_its_callers_wait_with_a_timeout():
    system = StandInSystem()
    pump = pump_of(system, timeout_s=0.2)
    with pytest.raises(HandOffTimeout, match="no answer to batch reconcile-"):
        pump.hand_off("reconcile", ["d" * 32])
    pump.close()


def test_a_system_that_cannot_be_told_or_listened_to_makes_the_hand_off_unavailable():
    system = StandInSystem()
    pump = pump_of(system)
    system.refuse_tell = True
    with pytest.raises(HandOffUnavailable, match="telling the actor system failed"):
        pump.hand_off("reconcile", ["e" * 32])
    system.refuse_tell = False
    system.answers.put(OSError("the admin went away"))
    with pytest.raises(HandOffUnavailable, match="listening to the actor system failed"):
        pump.hand_off("reconcile", ["e" * 32])
    pump.close()


def test_closing_the_pump_releases_every_caller_and_refuses_new_batches():
    system = StandInSystem()
    pump = pump_of(system)
    outcome: list[BaseException] = []

    def caller() -> None:
        try:
            pump.hand_off("reconcile", ["f" * 32])
        except HandOffUnavailable as error:
            outcome.append(error)

    thread = threading.Thread(target=caller)
    thread.start()
    system.told.get(timeout=10)
    pump.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and "closed" in str(outcome[0])
    with pytest.raises(HandOffUnavailable, match="closed"):
        pump.hand_off("reconcile", ["f" * 32])


class Garbled(HandOffDone):
    """An answer the pump trips over: whatever goes wrong inside it must not strand a caller."""

    @property  # type: ignore[misc]
    def batch_id(self) -> str:
        raise RuntimeError("garbled")


def test_a_pump_that_trips_fails_its_callers_and_the_next_batch_starts_it_again():
    system = StandInSystem()
    pump = pump_of(system)
    with ThreadPoolExecutor(1) as callers:
        stranded = callers.submit(pump.hand_off, "reconcile", ["g" * 32])
        system.told.get(timeout=10)
        system.answers.put(object.__new__(Garbled))
        with pytest.raises(HandOffUnavailable, match="the hand-off pump stopped: garbled"):
            stranded.result(timeout=10)
        again = callers.submit(pump.hand_off, "reconcile", ["g" * 32])
        system.answer(system.told.get(timeout=10))
        assert again.result(timeout=10).done == ("g" * 32,)
    pump.close()
