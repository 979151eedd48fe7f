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


def reconcile(supervisor: RecordingSupervisor, batch_id: str, *accounts: str) -> None:
    supervisor.receiveMsg_HandOff(HandOff(batch_id, "reconcile", accounts), "bridge")


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


def hangs(supervisor: RecordingSupervisor) -> None:
    """The shard is silent past the deadline: the clock's next look kills its process."""
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as hung:
        supervisor.shard_pids[0] = hung.pid
        supervisor._hang_check_tick()
        assert hung.poll() is None  # within the deadline: left alone
        assert supervisor.progress is not None
        supervisor.progress.answered(0, still_busy=True, now=0.0)  # silent since long ago
        supervisor._hang_check_tick()
        assert hung.wait(10) == -9  # killed
        supervisor._hang_check_tick()  # not killed again while its exit is awaited


def test_a_shard_silent_past_the_deadline_is_killed_and_the_work_it_hung_on_fails_at_once():
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    crawl(supervisor, "b", "account-b")
    hangs(supervisor)
    assert supervisor.counts[HUNG] == 1 and supervisor.stopped_hung == {0: "a"}
    dies(supervisor)  # Thespian sees the process gone
    reason = "the shard hung on this work (no answer in 10s) and was killed"
    assert [(work.batch_id, why) for work, why in supervisor.recorded] == [("a", reason)]
    assert supervisor.answers() == [HandOffDone("a", (), (("account-a", reason),), ())]
    assert supervisor.work_sent()[-1] == "b" and supervisor.in_flight[0].keys() == {"b"}  # b goes on
    assert supervisor.stopped_hung == {} and supervisor.restarts == 1


def test_work_answered_between_the_kill_and_the_exit_blames_nothing_queued_behind_it():
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    crawl(supervisor, "b", "account-b")
    hangs(supervisor)
    supervisor.receiveMsg_ShardWorkDone(_done("a"), supervisor.shards[0])  # a came through at the last moment
    supervisor._hang_check_tick()
    assert supervisor.counts[HUNG] == 1  # the answer did not set the dead shard's clock going again
    dies(supervisor)
    assert supervisor.recorded == [] and supervisor.work_sent()[-1] == "b"
    dies(supervisor)  # b's first death: sent once more, not failed
    assert supervisor.recorded == [] and supervisor.work_sent()[-1] == "b"


def test_a_merged_work_hung_on_is_tried_again_batch_by_batch():
    supervisor = started()
    reconcile(supervisor, "r1", "account-1")  # goes alone; the next two wait for it, then go merged
    reconcile(supervisor, "r2", "account-2")
    reconcile(supervisor, "r3", "account-3")
    supervisor.receiveMsg_ShardWorkDone(_done("r1", "account-1"), supervisor.shards[0])
    [merged] = [work for work in supervisor.in_flight[0].values()]
    assert set(merged.account_ids) == {"account-2", "account-3"}
    hangs(supervisor)
    dies(supervisor)
    assert supervisor.recorded == []  # split, not failed: each batch is tried alone
    assert supervisor.work_sent()[-1] in {"r2", "r3"} and supervisor.answers()[-1].batch_id == "r1"


def test_a_shard_that_answers_is_never_killed_however_long_its_queue(monkeypatch):
    killed: list[int] = []
    monkeypatch.setattr("actors.hang_watch.os.kill", lambda pid, signum: killed.append(pid))
    supervisor = started()
    for batch in "abc":
        crawl(supervisor, batch, f"account-{batch}")
    supervisor.shard_pids[0] = 4242
    assert supervisor.progress is not None
    for batch in "ab":
        supervisor.progress.answered(0, still_busy=True, now=0.0)  # long ago...
        supervisor.receiveMsg_ShardWorkDone(_done(batch), supervisor.shards[0])  # ...but it answers now
        supervisor._hang_check_tick()
    assert killed == [] and supervisor.counts[HUNG] == 0 and supervisor.in_flight[0].keys() == {"c"}


def test_without_a_deadline_nothing_is_watched_and_a_shard_without_a_process_is_not_killed():
    assert started(work_deadline_s=None).progress is None
    supervisor = started()
    crawl(supervisor, "a", "account-a")
    assert supervisor.progress is not None
    supervisor.progress.answered(0, still_busy=True, now=0.0)
    supervisor._hang_check_tick()  # no pid known (it never said it was ready): logged, not killed
    assert supervisor.counts[HUNG] == 0 and supervisor.stopped_hung == {}


def test_the_deadline_cannot_outlast_the_bridges_wait_for_an_answer():
    import pytest

    from bookkeeper.config import load_settings

    assert load_settings(environ={"KAZBILL_SHARD_WORK_DEADLINE": "100"}).shard_work_deadline_s == 100.0
    with pytest.raises(ValueError, match="KAZBILL_SHARD_WORK_DEADLINE.*at most 100 s"):
        load_settings(environ={"KAZBILL_SHARD_WORK_DEADLINE": "101"})


def _done(batch_id: str, *accounts: str):
    from actors.messages import ShardWorkDone

    return ShardWorkDone(batch_id, 0, accounts or (f"account-{batch_id}",), (), ())
