"""The root of the actor tree: starts the shards and the scheduler, routes batches to the shards,
restarts a child that dies within an OTP-style budget, and gives up loudly past it.

Giving up means telling the process that started the service (`ServiceFailed`), which exits
non-zero so that its process manager restarts everything from the store. A watchdog kills the
whole actor process group if that process disappears without shutting the system down, so no
actor is ever orphaned (Thespian's admin daemonises and would otherwise run forever).
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections import Counter

from thespian.actors import ActorExitRequest, ActorTypeDispatcher, ChildActorExited, PoisonMessage, WakeupMessage

from actors.messages import (
    CrawlNow,
    CrawlReport,
    DocumentsNow,
    DocumentsRendered,
    HandOff,
    HandOffDone,
    MailerStart,
    MailNow,
    MailPassDone,
    NoticesQueued,
    RenderDocuments,
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
from actors.routing import PendingBatches, split_by_shard, split_calls_by_shard
from actors.shard_failures import record_shard_failure
from actors.supervision import RestartBudget
from actors.work_merging import WorkMerging, merges
from bookkeeper.ports import DocumentStore

log = logging.getLogger("kazbill.supervisor")
GLOBAL_NAME = "kazbill-supervisor"
WATCHDOG = "watchdog"
DOCUMENTS = "documents"
PARALLEL_DOCUMENT_PASSES = 2  # a pass per core of a small node; the troupe grows to 4 workers
DOCUMENT_PASS_LIMIT = 50  # as many jobs as process_due_documents takes in one pass


class Supervisor(ActorTypeDispatcher):
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
            if self._watch_serve_process():
                self.wakeupAfter(config.watchdog_interval_s, payload=WATCHDOG)
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
        if batch.kind == "rate":
            calls = split_calls_by_shard(batch.calls, len(self.shards), lambda call: call.account_id)
            works = {
                index: ShardWork(batch.batch_id, "rate", tuple(call.account_id for call in part), None, part)
                for index, part in calls.items()
            }
        else:
            works = {
                index: ShardWork(batch.batch_id, batch.kind, account_ids, batch.day)
                for index, account_ids in split_by_shard(batch.account_ids, len(self.shards)).items()
            }
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
        busy = {work.kind for work in self.in_flight[index].values() if merges(work)}
        for work in self.merging.release(index, busy):
            self._send_work(index, work)

    def _send_work(self, index: int, work: ShardWork) -> None:
        self.in_flight[index][work.batch_id] = work
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
        if not isinstance(work, ShardWork) or sender not in self.shards:
            log.error("a %s failed twice in %s and was dropped: %s", type(work).__name__, sender, poison.details)
            return
        index = self.shards.index(sender)
        if self.merging.unmerge(index, work.batch_id):  # its batches again, one at a time
            self.in_flight[index].pop(work.batch_id, None)
            self._release(index)
            return
        self._fail_work(index, work, "the shard failed twice on this work")

    def _fail_work(self, index: int, work: ShardWork, reason: str) -> None:
        log.error("shard %d: %s (batch %s, %d accounts)", index, reason, work.batch_id, len(work.account_ids))
        try:
            self._record(work, reason)
        except Exception as error:  # noqa: BLE001 - unrecorded, the accounts are handed back instead
            log.error("could not record the failure (%s); handing the accounts back", error)
            self._report(work.batch_id, index, (), (), work.account_ids)
            return
        self._report(work.batch_id, index, (), tuple((account, reason) for account in work.account_ids), ())

    def _record(self, work: ShardWork, reason: str) -> None:
        from bookkeeper.bootstrap import build_store

        assert self.config is not None
        if self._failures_store is None:
            self._failures_store = build_store(self.config.settings)
        record_shard_failure(self._failures_store, self.config.clock_file, work, reason)

    # A one-pass request (CrawlNow, MailNow) goes to the child that does the pass; its report
    # goes back to the oldest asker. With no such child, the asker gets an empty report at once.
    def receiveMsg_CrawlNow(self, request: CrawlNow, sender) -> None:
        self._forward(request, sender, self.scheduler, self.crawl_askers, CrawlReport((), 0, 0, 0))

    def receiveMsg_CrawlReport(self, report: CrawlReport, sender) -> None:
        self._answer_oldest(self.crawl_askers, report)

    def receiveMsg_MailNow(self, request: MailNow, sender) -> None:
        self._forward(request, sender, self.mailer, self.mail_askers, MailPassDone(0, 0, 0, 0, 0))

    def receiveMsg_MailPassDone(self, report: MailPassDone, sender) -> None:
        self._answer_oldest(self.mail_askers, report)

    def receiveMsg_DocumentsNow(self, request: DocumentsNow, sender) -> None:
        self.document_askers.append(sender)
        self._document_passes(1, asked=True)

    def receiveMsg_DocumentsRendered(self, report: DocumentsRendered, sender) -> None:
        if report.batch_id.startswith("asked-"):
            self._answer_oldest(self.document_askers, report)
        elif report.rendered + report.emailed >= DOCUMENT_PASS_LIMIT:
            self._document_passes()  # a full pass: there is more

    def _document_passes(self, count: int = PARALLEL_DOCUMENT_PASSES, asked: bool = False) -> None:
        """Passes for the troupe; several at once so that its workers render in parallel. An
        asked pass's report goes back to whoever asked (DocumentsNow)."""
        if self.config is None or self.document_workers is None:
            return
        for _ in range(count):
            batch = f"{'asked' if asked else 'tick'}-{uuid.uuid4().hex}"
            self.send(self.document_workers, RenderDocuments(batch, self.config.settings, self.config.clock_file))

    def _forward(self, request: object, sender, child, askers: list, nothing_done: object) -> None:
        if child is None:
            self.send(sender, nothing_done)
            return
        askers.append(sender)
        self.send(child, request)

    def _answer_oldest(self, askers: list, report: object) -> None:
        if askers:
            self.send(askers.pop(0), report)

    def receiveMsg_ShardReady(self, ready: ShardReady, sender) -> None:
        if 0 <= ready.index < len(self.shards) and sender == self.shards[ready.index]:
            self.shard_pids[ready.index] = ready.pid  # not a dead predecessor's word, come late

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
        """The work the dead shard held goes to its successor once; dying on it twice makes it a
        stored failure, like a message Thespian returns as poison."""
        for batch_id, work in list(self.in_flight[index].items()):
            parts = self.merging.unmerge(index, batch_id)  # its batches again, one at a time,
            if parts:  # and dying on one of them alone fails it
                del self.in_flight[index][batch_id]
                self.redelivered.update((part.batch_id, index) for part in parts)
            elif (batch_id, index) in self.redelivered:
                self._fail_work(index, work, "the shard process died twice on this work")
            else:
                self.redelivered.add((batch_id, index))
                self.send(self.shards[index], work)
        self._release(index)

    def _give_up(self, reason: str) -> None:
        log.critical("giving up: %s", reason)
        self.giving_up = True
        if self.started_by is not None:
            self.send(self.started_by, ServiceFailed(reason))

    # ---------------------------------------------------------------- watchdog
    def _watch_serve_process(self) -> bool:
        """Only when the actors run in their own process group (multiprocTCPBase daemonises them):
        in an in-process system the group is the caller's own."""
        pid = self.config.serve_pid if self.config else None
        if not pid or pid == os.getpid():
            return False
        try:
            return os.getpgid(pid) != os.getpgid(0)
        except ProcessLookupError:
            return True

    def receiveMsg_WakeupMessage(self, wakeup: WakeupMessage, sender) -> None:
        if wakeup.payload == DOCUMENTS and self.config is not None and self.config.mailer_interval_s is not None:
            self._document_passes()
            self.wakeupAfter(self.config.mailer_interval_s, payload=DOCUMENTS)
            return
        if wakeup.payload != WATCHDOG or self.config is None or self.config.serve_pid is None:
            return  # (the watchdog runs only when there is a process to watch)
        try:
            os.kill(self.config.serve_pid, 0)
        except ProcessLookupError:
            log.critical(
                "the process that started the service (pid %s) is gone; stopping every actor", self.config.serve_pid
            )
            os.killpg(os.getpgid(0), signal.SIGKILL)
        self.wakeupAfter(self.config.watchdog_interval_s, payload=WATCHDOG)
