"""The scheduler: at each tick, crawls every day a reseller owes (today after local midnight,
and every day missed while the service was down), a few chunks at a time.

Chunks go through the supervisor to the shards like any other batch, and only a few are in
flight at once, so that document changes queued at the shards are served between chunks: a crawl
of 100,000 accounts delays events by one chunk, not by the whole crawl.
"""
from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass, field

from thespian.actors import ActorTypeDispatcher, WakeupMessage

from actors.messages import CrawlNow, CrawlReport, HandOff, HandOffDone, SchedulerStart
from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.services.billing import BillingPorts
from bookkeeper.services.crawl_plan import CrawlJob, mark_crawled, plan_crawls

log = logging.getLogger("kazbill.scheduler")
CHUNK_SIZE = 50
CHUNKS_IN_FLIGHT = 2
TICK = "tick"


@dataclass
class _Pass:
    jobs: deque[CrawlJob]
    waiting: list = field(default_factory=list)  # who asked for this pass (CrawlNow senders)
    job: CrawlJob | None = None
    chunks: deque[tuple[str, ...]] = field(default_factory=deque)
    in_flight: set[str] = field(default_factory=set)
    job_clean: bool = True
    crawled: list[tuple[str, str]] = field(default_factory=list)
    accounts: int = 0
    failed: int = 0
    not_done: int = 0


class Scheduler(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.ports: BillingPorts | None = None
        self.supervisor = None
        self.interval_s = 30.0
        self.current: _Pass | None = None
        self.asked: list = []

    def receiveMsg_SchedulerStart(self, start: SchedulerStart, sender) -> None:
        self.ports = build_billing_ports(start.settings, start.clock_file)  # type: ignore[arg-type]
        self.supervisor, self.interval_s = sender, start.interval_s
        self.wakeupAfter(0.1, payload=TICK)  # the start-up catch-up

    def receiveMsg_WakeupMessage(self, wakeup: WakeupMessage, sender) -> None:
        if wakeup.payload == TICK:
            self._begin()
            self.wakeupAfter(self.interval_s, payload=TICK)

    def receiveMsg_CrawlNow(self, request: CrawlNow, sender) -> None:
        self.asked.append(sender)
        self._begin()

    def _begin(self) -> None:
        if self.current is not None or self.ports is None:
            return  # a pass is running; whoever asked is answered when the next one ends
        try:
            jobs, broken = plan_crawls(self.ports.store, self.ports.clock.now())
        except Exception as error:  # noqa: BLE001 - the store may be down: the next tick tries again
            log.warning("cannot plan the crawl: %s", error)
            self._answer(CrawlReport((), 0, 0, 0))
            return
        for reseller_id, reason in broken:
            log.error("reseller %s is not crawled: %s", reseller_id, reason)
        self.current = _Pass(deque(jobs), waiting=self.asked)
        self.asked = []
        self._next_job()

    def _next_job(self) -> None:
        run = self.current
        assert run is not None
        while not run.chunks and not run.in_flight:
            if run.job is not None and run.job_clean:
                try:
                    mark_crawled(self.ports.store, run.job.reseller_id, run.job.day)  # type: ignore[union-attr]
                    run.crawled.append((run.job.reseller_id, run.job.day.isoformat()))
                except Exception as error:  # noqa: BLE001 - the day stays owed; the next tick resumes it
                    log.warning("cannot record the crawl of %s: %s", run.job.day, error)
                    run.job_clean = False
            if not run.jobs or not run.job_clean:
                self._finish()
                return
            run.job = run.jobs.popleft()
            ids = run.job.account_ids
            run.chunks = deque(ids[i:i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE))
        self._send_chunks()

    def _send_chunks(self) -> None:
        run = self.current
        assert run is not None and run.job is not None
        while run.chunks and len(run.in_flight) < CHUNKS_IN_FLIGHT:
            batch_id = f"crawl-{uuid.uuid4().hex}"
            run.in_flight.add(batch_id)
            self.send(self.supervisor, HandOff(batch_id, "crawl", run.chunks.popleft(), run.job.day.isoformat()))

    def receiveMsg_HandOffDone(self, done: HandOffDone, sender) -> None:
        run = self.current
        if run is None or done.batch_id not in run.in_flight:
            return
        run.in_flight.discard(done.batch_id)
        run.accounts += len(done.done)
        run.failed += len(done.failed)
        run.not_done += len(done.not_done)
        if done.not_done:  # the store went away: stop here, the day stays owed
            run.job_clean = False
            run.chunks.clear()
        self._next_job()

    def _finish(self) -> None:
        run = self.current
        assert run is not None
        self.current = None
        log.info("crawl pass: %d days, %d accounts, %d failed, %d handed back",
                 len(run.crawled), run.accounts, run.failed, run.not_done)
        self._answer(CrawlReport(tuple(run.crawled), run.accounts, run.failed, run.not_done), run.waiting)
        if self.asked:  # asked while this pass ran: the next pass answers them
            self._begin()

    def _answer(self, report: CrawlReport, waiting: list | None = None) -> None:
        for asker in (waiting if waiting is not None else self.asked):
            self.send(asker, report)
        if waiting is None:
            self.asked = []
