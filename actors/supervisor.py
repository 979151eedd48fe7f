"""The root of the actor tree: starts the shards and the scheduler, routes batches to the shards,
restarts a child that dies within an OTP-style budget, and gives up loudly past it.

Giving up means telling the process that started the service (`ServiceFailed`), which exits
non-zero so that its process manager restarts everything from the store. A watchdog
(serve_watchdog.py) kills the whole actor process group if that process disappears without
shutting the system down. The passes asked for now (a crawl, mail, documents) are forwarded by
pass_requests.py.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

from thespian.actors import ActorExitRequest, ActorTypeDispatcher, ChildActorExited, PoisonMessage, WakeupMessage

from actors.hang_watch import HANG_CHECK, HangWatch, ShardProgress, why_failed
from actors.messages import (
    HandOff,
    HandOffDone,
    MailerStart,
    NoticesQueued,
    SchedulerStart,
    ServiceFailed,
    ServiceStarted,
    ServiceStatus,
    ShardReady,
    ShardStart,
    ShardWork,
    ShardWorkDone,
    StartService,
    StatusRequest,
)
from actors.pass_requests import DOCUMENTS, PassRequests
from actors.routing import PendingBatches, shard_works
from actors.serve_watchdog import WATCHDOG, ServeWatchdog
from actors.shard_failures import ShardFailures
from actors.supervision import RestartBudget
from actors.work_merging import WorkMerging, merges
from bookkeeper.ports import DocumentStore

log = logging.getLogger("kazbill.supervisor")
GLOBAL_NAME = "kazbill-supervisor"


class Supervisor(ActorTypeDispatcher, PassRequests, ServeWatchdog, HangWatch, ShardFailures):
    """(The passes asked for and the document passes: PassRequests; the watchdog: ServeWatchdog;
    shards that stop answering: HangWatch; work failed for good: ShardFailures.)"""

    def __init__(self) -> None:
        super().__init__()
        self.config: StartService | None = None
        self.started_by = None
        self.shards: list = []
        self.scheduler = None
        self.mailer = None
        self.document_workers = None
        self.mail_askers: list = []
        self.budget: RestartBudget | None = None
        self.pending = PendingBatches()
        self.in_flight: dict[int, dict[str, ShardWork]] = {}
        self.merging = WorkMerging()  # work held for a shard busy with its kind (work_merging.py)
        self.redelivered: set[tuple[str, int]] = set()
        self.giving_up = False
        self.stopping = False
        self._failures_store: DocumentStore | None = None
        self.crawl_askers: list = []
        self.document_askers: list = []
        self.restarts = 0
        self.shard_pids: dict[int, int] = {}
        self.counts: Counter[str] = Counter()  # what the shards reported, for the metrics
        self.progress: ShardProgress | None = None
        self.stopped_hung: dict[int, str] = {}

    # ---------------------------------------------------------------- start
    def receiveMsg_StartService(self, config: StartService, sender) -> None:
        if self.config is None:
            self.config, self.started_by = config, sender
            self.budget = RestartBudget(config.restart_intensity, config.restart_period_s)
            self.shards = [self._start_shard(index) for index in range(config.shard_count)]
            self.in_flight = {index: {} for index in range(config.shard_count)}
            if config.scheduler_interval_s is not None:
                self.scheduler = self._start_scheduler()
            if config.mailer_interval_s is not None:
                self.mailer = self._start_mailer()
            self.document_workers = self._start_document_workers()
            if config.mailer_interval_s is not None:  # documents are looked at as often as mail
                self.wakeupAfter(config.mailer_interval_s, payload=DOCUMENTS)
            self._start_watchdog()
            self._start_hang_watch()
        self.send(sender, ServiceStarted(len(self.shards), os.getpgid(0)))

    def _start_shard(self, index: int):
        from actors.shard import AccountShard

        assert self.config is not None
        shard = self.createActor(AccountShard)
        self.send(shard, ShardStart(index, self.config.settings, self.config.clock_file))
        return shard

    def _start_scheduler(self):
        from actors.scheduler import Scheduler

        assert self.config is not None and self.config.scheduler_interval_s is not None
        scheduler = self.createActor(Scheduler)
        self.send(
            scheduler, SchedulerStart(self.config.settings, self.config.clock_file, self.config.scheduler_interval_s)
        )
        return scheduler

    def _start_mailer(self):
        from actors.mailer import MailerActor

        assert self.config is not None and self.config.mailer_interval_s is not None
        mailer = self.createActor(MailerActor)
        self.send(mailer, MailerStart(self.config.settings, self.config.clock_file, self.config.mailer_interval_s))
        return mailer

    def _start_document_workers(self):
        from actors.document_workers import DocumentWorker

        return self.createActor(DocumentWorker)

    # ---------------------------------------------------------------- routing
    def receiveMsg_HandOff(self, batch: HandOff, sender) -> None:
        if self.config is None or self.giving_up:
            self.send(sender, HandOffDone(batch.batch_id, (), (), batch.account_ids))
            return
        works = shard_works(batch, len(self.shards))
        if not works:
            self.send(sender, HandOffDone(batch.batch_id, (), (), ()))
            return
        self.pending.open(batch.batch_id, sender, works)
        for index, work in works.items():
            self.merging.hold(index, work)
            self._release(index)

    def _release(self, index: int) -> None:
        """Send the shard what may go now (work_merging.py): rating and reconciling wait while
        the shard has work of their kind in hand, and go merged when it is done."""
        if self.giving_up:
            return
        busy = {work.kind for work in self.in_flight[index].values() if merges(work)}
        for work in self.merging.release(index, busy):
            self._send_work(index, work)

    def _send_work(self, index: int, work: ShardWork) -> None:
        self.in_flight[index][work.batch_id] = work
        if self.progress is not None:
            self.progress.given(index, time.monotonic())
        self.send(self.shards[index], work)

    def receiveMsg_ShardWorkDone(self, report: ShardWorkDone, sender) -> None:
        self.counts.update(
            [f"event:{name}" for name, _ in report.events]
            + ["accounts:done"] * len(report.done)
            + ["accounts:failed"] * len(report.failed)
            + ["accounts:handed_back"] * len(report.not_done)
        )
        if self.mailer is not None and any(name == "notices_queued" for name, _ in report.events):
            self.send(self.mailer, NoticesQueued())
        if any(name == "documents_issued" for name, _ in report.events):
            self._document_passes()
        self._report(report.batch_id, report.shard, report.done, report.failed, report.not_done, report.events)

    def _report(self, batch_id: str, shard: int, done, failed, not_done, events=()) -> None:
        self.in_flight.get(shard, {}).pop(batch_id, None)
        self.redelivered.discard((batch_id, shard))
        self._clock_restarts(shard)
        for part in self.merging.reports(batch_id, done, failed, not_done, events):
            finished = self.pending.report(part.batch_id, shard, part.done, part.failed, part.not_done, part.events)
            if finished is not None:
                reply_to, outcome = finished
                self.send(
                    reply_to,
                    HandOffDone(
                        part.batch_id,
                        tuple(outcome.done),
                        tuple(outcome.failed),
                        tuple(outcome.not_done),
                        tuple(outcome.events),
                    ),
                )
        if shard in self.in_flight:
            self._release(shard)

    def receiveMsg_PoisonMessage(self, poison: PoisonMessage, sender) -> None:
        work = poison.poisonMessage
        if self.giving_up:
            return  # every batch was handed back: its redelivery, not a failure record, follows
        if not isinstance(work, ShardWork) or sender not in self.shards:
            log.error("a %s failed twice in %s and was dropped: %s", type(work).__name__, sender, poison.details)
            return
        index = self.shards.index(sender)
        if self.merging.unmerge(index, work.batch_id):  # its batches again, one at a time
            self.in_flight[index].pop(work.batch_id, None)
            self._clock_restarts(index)
            self._release(index)
            return
        self._fail_work(index, work, "the shard failed twice on this work")

    def receiveMsg_ShardReady(self, ready: ShardReady, sender) -> None:
        if 0 <= ready.index < len(self.shards) and sender == self.shards[ready.index]:
            self.shard_pids[ready.index] = ready.pid  # not a dead predecessor's word, come late
            self._clock_restarts(ready.index)  # its start-up is not its work's time

    def receiveMsg_StatusRequest(self, request: StatusRequest, sender) -> None:
        self.send(
            sender,
            ServiceStatus(
                tuple(self.shards),
                tuple(self.shard_pids.get(i) for i in range(len(self.shards))),
                self.scheduler,
                self.mailer,
                self.document_workers,
                self.restarts,
                sum(self.merging.batches_in(work) for works in self.in_flight.values() for work in works.values())
                + self.merging.waiting(),
                self.giving_up,
                tuple(sorted(self.counts.items())),
            ),
        )

    # ---------------------------------------------------------------- supervision
    def receiveMsg_ActorExitRequest(self, request: ActorExitRequest, sender) -> None:
        self.stopping = True  # the children exit with us: not a fault to restart them for

    def receiveMsg_ChildActorExited(self, exited: ChildActorExited, sender) -> None:
        if self.giving_up or self.stopping or self.config is None:
            return
        address = exited.childAddress
        if address in self.shards:
            index = self.shards.index(address)
            # Its pid is gone with it: until the successor says it is ready, the status shows no
            # pid there (a caller waiting for every shard ready, then killing one by its pid, must
            # not be handed the dead one's).
            self.shard_pids.pop(index, None)
            if self._restart_allowed(f"shard {index}"):
                self.shards[index] = self._start_shard(index)
                self._redeliver(index)
        elif address == self.scheduler and self._restart_allowed("the scheduler"):
            self.scheduler = self._start_scheduler()
        elif address == self.mailer and self._restart_allowed("the mailer"):
            self.mailer = self._start_mailer()
        elif address == self.document_workers and self._restart_allowed("the document workers"):
            self.document_workers = self._start_document_workers()

    def _restart_allowed(self, child: str) -> bool:
        assert self.budget is not None
        if self.budget.allow(time.monotonic()):
            self.restarts += 1
            log.warning("%s exited; restarting it", child)
            return True
        self._give_up(
            f"{child} exited and the restart budget ({self.budget.intensity} in {self.budget.period_s:g}s) is spent"
        )
        return False

    def _redeliver(self, index: int) -> None:
        """The work the dead shard was on goes to its successor once; dying on it again makes it
        a stored failure, like a message Thespian returns as poison. That work is the oldest it
        held, as a shard takes its work in the order sent (Thespian keeps the order between two
        actors); what was queued behind it never started, and is sent again as it was. Work it
        was killed for hanging on fails at once (hang_watch.py), unless it was answered between
        the kill and the exit; a merged work, dead or hung on, is tried again batch by batch."""
        works = self.in_flight[index]
        killed_on = self.stopped_hung.pop(index, None)
        hung = killed_on is not None
        died_on = (killed_on if killed_on in works else None) if hung else next(iter(works), None)
        failing = None
        if died_on is not None:
            parts = self.merging.unmerge(index, died_on)  # its batches again, one at a time (released
            if parts:  # below, after the rest), and dying on one of them alone fails it
                del works[died_on]
                self.redelivered.update((part.batch_id, index) for part in parts)
            elif hung or (died_on, index) in self.redelivered:
                failing = works[died_on]
            else:
                self.redelivered.add((died_on, index))
                self.send(self.shards[index], works[died_on])
        for batch_id, work in list(works.items()):
            if batch_id != died_on:
                self.send(self.shards[index], work)
        if failing is not None:  # after the rest were sent: what its report releases goes last, as filed
            self._fail_work(index, failing, why_failed(hung, self.progress))
        self._clock_restarts(index)
        self._release(index)

    def _give_up(self, reason: str) -> None:
        """Every batch still waited for is handed back (what a shard may yet write is written
        again harmlessly at its redelivery), so that no bridge waits out its timeout."""
        log.critical("giving up: %s", reason)
        self.giving_up = True
        for index, works in self.in_flight.items():
            for work in [*works.values(), *self.merging.held.pop(index, [])]:
                self._report(work.batch_id, index, (), (), work.account_ids)
        if self.started_by is not None:
            self.send(self.started_by, ServiceFailed(reason))

    # ---------------------------------------------------------------- timers
    def receiveMsg_WakeupMessage(self, wakeup: WakeupMessage, sender) -> None:
        if wakeup.payload == DOCUMENTS:
            self._documents_tick()
        elif wakeup.payload == WATCHDOG:
            self._watchdog_tick()
        elif wakeup.payload == HANG_CHECK:
            self._hang_check_tick()
