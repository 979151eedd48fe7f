"""A shard that stops answering, and a shard that dies, as the supervisor sees them: the clock of
progress (pure), and the supervisor's decisions with Thespian's sending replaced by a list. The
hang on real processes and a real store is tests/integration/test_shard_hang.py."""

from __future__ import annotations

import subprocess
import sys

from thespian.actors import ChildActorExited

from actors.hang_watch import HUNG, ShardProgress, check_every
from actors.messages import HandOff, HandOffDone, ShardStart, ShardWork, StartService
from actors.supervisor import Supervisor
from bookkeeper.config import Settings

DEADLINE_S = 10.0


def test_a_busy_shard_is_overdue_only_when_it_has_answered_nothing_for_the_deadline():
    progress = ShardProgress(DEADLINE_S)
    progress.given(0, now=100.0)
    progress.given(0, now=105.0)  # more work queued: the clock runs from the first
    assert progress.overdue(110.0) == [] and progress.overdue(110.5) == [0]
    progress.answered(0, still_busy=True, now=110.5)  # an answer, the rest still queued
    assert progress.overdue(120.0) == [] and progress.overdue(120.6) == [0]
    progress.answered(0, still_busy=False, now=121.0)  # idle: never overdue
    assert progress.overdue(10_000.0) == []
    progress.given(1, now=0.0)
    progress.forget(1)  # being killed: not looked at again until its successor is given work
    assert progress.overdue(10_000.0) == []


def test_the_clock_is_looked_at_often_enough_and_not_too_often():
    assert check_every(600.0) == 5.0 and check_every(10.0) == 1.0 and check_every(0.1) == 0.05


class Shard:
    """A stand-in for a shard's actor address."""

    def __init__(self, n: int):
        self.n = n

    def __repr__(self) -> str:
        return f"Shard({self.n})"


class RecordingSupervisor(Supervisor):
    """The supervisor with what it sends and schedules kept in lists, and failures recorded here."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[object, object]] = []
        self.recorded: list[tuple[ShardWork, str]] = []
        self.made = 0

    def createActor(self, actor_class, *args, **kwargs):  # noqa: N802 - Thespian's name
        self.made += 1
        return Shard(self.made)

    def send(self, target, message) -> None:
        self.sent.append((target, message))

    def wakeupAfter(self, *args, **kwargs) -> None:  # noqa: N802 - Thespian's name
        pass

    def _record(self, work: ShardWork, reason: str) -> None:
        self.recorded.append((work, reason))

    def work_sent(self) -> list[str]:
        return [message.batch_id for _, message in self.sent if isinstance(message, ShardWork)]

    def answers(self) -> list[HandOffDone]:
        return [message for _, message in self.sent if isinstance(message, HandOffDone)]


def started(**overrides) -> RecordingSupervisor:
    supervisor = RecordingSupervisor()
    config = dict(
        settings=Settings(),
        shard_count=1,
        restart_intensity=10,
        restart_period_s=60.0,
        serve_pid=None,
        scheduler_interval_s=None,
        mailer_interval_s=None,
        work_deadline_s=DEADLINE_S,
    )
    supervisor.receiveMsg_StartService(StartService(**{**config, **overrides}), "serve")
    supervisor.sent.clear()
    return supervisor


def crawl(supervisor: RecordingSupervisor, batch_id: str, *accounts: str) -> None:
    supervisor.receiveMsg_HandOff(HandOff(batch_id, "crawl", accounts, "2026-03-02"), "bridge")


def dies(supervisor: RecordingSupervisor) -> None:
    supervisor.receiveMsg_ChildActorExited(ChildActorExited(supervisor.shards[0]), None)


def test_only_the_work_a_shard_died_on_twice_fails_and_what_was_queued_behind_it_goes_on():
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    crawl(supervisor, "b", "account-b")  # queued behind a: the shard takes them in order
    assert supervisor.work_sent() == ["a", "b"]
    dies(supervisor)  # on a
    assert supervisor.work_sent() == ["a", "b", "a", "b"] and supervisor.answers() == []
    assert isinstance(supervisor.sent[-3][1], ShardStart)  # the successor, then the work again
    dies(supervisor)  # on a again: a fails, b has never been tried
    assert [(work.batch_id, reason) for work, reason in supervisor.recorded] == [
        ("a", "the shard process died twice on this work")
    ]
    assert supervisor.answers() == [
        HandOffDone("a", (), (("account-a", "the shard process died twice on this work"),), ())
    ]
    assert supervisor.work_sent()[-1] == "b"  # b goes to the third shard, as it was
    dies(supervisor)  # on b, its first time: b is sent once more, not failed
    assert len(supervisor.recorded) == 1 and supervisor.work_sent()[-1] == "b"


def test_a_shard_silent_past_the_deadline_is_killed_and_its_work_fails_when_it_hangs_twice():
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    crawl(supervisor, "b", "account-b")
    for round_ in (1, 2):
        with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as hung:
            supervisor.shard_pids[0] = hung.pid
            supervisor._hang_check_tick()
            assert hung.poll() is None  # within the deadline: left alone
            assert supervisor.progress is not None
            supervisor.progress.answered(0, still_busy=True, now=0.0)  # silent since long ago
            supervisor._hang_check_tick()
            assert hung.wait(10) == -9  # killed
            assert supervisor.counts[HUNG] == round_ and supervisor.stopped_hung == {0: "a"}
            supervisor._hang_check_tick()  # no second kill while the successor is awaited
            assert supervisor.counts[HUNG] == round_
        dies(supervisor)  # Thespian sees the process gone
    reason = "the shard stopped twice on this work, the second time hung (no answer in 10s)"
    assert [(work.batch_id, why) for work, why in supervisor.recorded] == [("a", reason)]
    assert supervisor.answers() == [HandOffDone("a", (), (("account-a", reason),), ())]
    assert supervisor.stopped_hung == {} and supervisor.in_flight[0].keys() == {"b"}
    assert supervisor.restarts == 2


def test_a_shard_that_answers_is_never_killed_however_long_its_queue():
    supervisor = started()
    for batch in "abc":
        crawl(supervisor, batch, f"account-{batch}")
    supervisor.shard_pids[0] = 1  # never signalled: nothing here is overdue
    assert supervisor.progress is not None
    for batch in "ab":
        supervisor.progress.answered(0, still_busy=True, now=0.0)  # long ago...
        supervisor.receiveMsg_ShardWorkDone(_done(batch), supervisor.shards[0])  # ...but it answers now
        supervisor._hang_check_tick()
    assert supervisor.counts[HUNG] == 0 and supervisor.in_flight[0].keys() == {"c"}


def test_without_a_deadline_nothing_is_watched_and_a_shard_without_a_process_is_not_killed():
    assert started(work_deadline_s=None).progress is None
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    assert supervisor.progress is not None
    supervisor.progress.answered(0, still_busy=True, now=0.0)
    supervisor._hang_check_tick()  # no pid known (it never said it was ready): logged, not killed
    assert supervisor.counts[HUNG] == 0 and supervisor.stopped_hung == {}


def _done(batch_id: str):
    from actors.messages import ShardWorkDone

    return ShardWorkDone(batch_id, 0, (f"account-{batch_id}",), (), ())
