"""The scheduler: at each tick, crawls every day a reseller owes (today after local midnight,
and every day missed while the service was down), a few chunks at a time.

Chunks go through the supervisor to the shards like any other batch, and only a few are in
flight at once, so that document changes queued at the shards are served between chunks: a crawl
of 100,000 accounts delays events by a chunk or two, not by the whole crawl. A chunk is cut when
it is sent, as big as the shards answer within about a second (CHUNK_ANSWERED_WITHIN_S): 50
accounts on the embedded store (~0.2 s), where on CouchDB 50 took 4-5 s with the other chunk in
flight queued before it, and an event that came meanwhile waited behind both
(bench.crawl_interleave --couch: p99 5.8 s during a crawl against 0.44 s idle).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque

from thespian.actors import ActorTypeDispatcher, WakeupMessage

from actors.bridges.batch_sizing import BatchSizing
from actors.cluster import ownership_for, recent_calls, taken_over
from actors.crawl_pass import CrawlPass
from actors.messages import CrawlNow, CrawlReport, HandOff, HandOffDone, SchedulerStart
from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.crawl_plan import (
    CrawlJob,
    fall_back,
    mark_crawled,
    plan_crawls,
    record_crawl_refusals,
)
from bookkeeper.services.cluster.membership import Ownership

log = logging.getLogger("kazbill.scheduler")
CHUNK_SIZE = 50  # the most accounts a chunk holds (and a take-over's chunk)
CHUNKS_IN_FLIGHT = 2
# A chunk's size follows how fast the shards answered the chunks before it: between 5 and 50
# accounts, answered (queueing behind the other chunk in flight included) within about a second.
CHUNK_SMALLEST, CHUNK_ANSWERED_WITHIN_S = 5, 1.0
TICK = "tick"


class Scheduler(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.ports: BillingPorts | None = None
        self.supervisor = None
        self.interval_s = 30.0
        self.current: CrawlPass | None = None
        self.asked: list = []
        self.broken_recorded: set[tuple[str, str]] = set()  # resellers set aside, and why, stored once
        # The accounts of an unfinished (reseller, day) already crawled or stored as failed: a pass
        # cut short by a hand-back resumes the day from the others, not from its first account (a
        # reseller of 100,000 accounts was crawled again up to the one the store refused, each tick).
        self.crawled_of_day: dict[tuple[str, str], set[str]] = {}
        # The accounts of such a day the shards handed back while billing the others (the store
        # refusing them alone): a chunk of only these handed back again is the same refusal, not
        # the store away, and the other resellers go on (`CrawlPass.passed_over`).
        self.refused_alone: dict[tuple[str, str], set[str]] = {}
        # Distributed mode: the cluster as last seen, the accounts gained and not yet taken over,
        # and the take-over batches in flight.
        self.ownership: Ownership | None = None
        self.cluster: tuple[str, ...] | None = None
        self.taking_over: set[str] = set()
        self.calls_to_rate: set[str] = set()  # accounts taken over from a node that left
        self.take_over_in_flight: dict[str, tuple[str, ...]] = {}
        self.chunk_sizing = BatchSizing(CHUNK_SMALLEST, CHUNK_SIZE, CHUNK_ANSWERED_WITHIN_S)

    def receiveMsg_SchedulerStart(self, start: SchedulerStart, sender) -> None:
        self.ports = build_billing_ports(start.settings, start.clock_file)
        self.supervisor, self.interval_s = sender, start.interval_s
        self.ownership = ownership_for(start.settings, self.ports.store)
        self.wakeupAfter(0.1, payload=TICK)  # the start-up catch-up

    def receiveMsg_WakeupMessage(self, wakeup: WakeupMessage, sender) -> None:
        if wakeup.payload == TICK:
            if self.ownership is not None:
                self._follow_the_cluster()
            self._begin()
            self.wakeupAfter(self.interval_s, payload=TICK)

    def receiveMsg_CrawlNow(self, request: CrawlNow, sender) -> None:
        self.asked.append(sender)
        self._begin()

    def _begin(self) -> None:
        if self.current is not None or self.ports is None:
            return  # a pass is running; whoever asked is answered when the next one ends
        if self.ownership is not None and self.cluster is None:
            return  # no crawl before this node has seen the cluster it is part of
        try:
            jobs, broken = plan_crawls(self.ports.store, self.ports.clock.now(), self._node())
        except Exception as error:  # noqa: BLE001 - the store may be down: the next tick tries again
            log.warning("cannot plan the crawl: %s", error)
            self._answer(CrawlReport((), 0, 0, 0))
            return
        for reseller_id, reason in broken:
            log.error("reseller %s is not crawled: %s", reseller_id, reason)
        self._record_broken([item for item in broken if item not in self.broken_recorded])
        planned = {_day_key(job) for job in jobs}
        self.crawled_of_day = {key: done for key, done in self.crawled_of_day.items() if key in planned}
        self.refused_alone = {key: refused for key, refused in self.refused_alone.items() if key in planned}
        self.current = CrawlPass(deque(jobs), waiting=self.asked)
        self.asked = []
        self._next_job()

    def _record_broken(self, broken: list[tuple[str, str]]) -> None:
        """A reseller set aside is a failure for a person (kazbill status counts it), stored once
        for each reason; the log says it at every tick."""
        assert self.ports is not None
        if not broken:
            return
        try:
            record_crawl_refusals(self.ports.store, broken, gregorian_now(self.ports.clock))
        except Exception as error:  # noqa: BLE001 - said again at the next tick; the crawl goes on
            log.warning("cannot record the resellers not crawled: %s", error)
            return
        self.broken_recorded.update(broken)

    def _next_job(self) -> None:
        run = self.current
        assert run is not None
        while not run.accounts_left and not run.in_flight:
            if run.job is not None and run.job_clean:
                try:
                    assert self.ports is not None  # set by SchedulerStart, before the first pass
                    mark_crawled(self.ports.store, run.job.reseller_id, run.job.day, self._node())
                    run.crawled.append((run.job.reseller_id, run.job.day.isoformat()))
                    self.crawled_of_day.pop(_day_key(run.job), None)
                    self.refused_alone.pop(_day_key(run.job), None)
                except Exception as error:  # noqa: BLE001 - the day stays owed; the next tick resumes it
                    log.warning("cannot record the crawl of %s: %s", run.job.day, error)
                    run.stopped = True
            run.job = None
            if not run.jobs or run.stopped:
                self._finish()
                return
            job = run.jobs.popleft()
            if job.reseller_id in run.passed_over:
                continue  # its earlier day stays owed: its later days wait for it
            run.job, run.job_clean = job, True
            ids = job.account_ids
            if self.ownership is not None:  # the other nodes crawl theirs
                try:
                    ids = tuple(self.ownership.mine(ids))
                except Exception as error:  # noqa: BLE001 - leases unreadable or this one lapsed: the day stays owed
                    log.warning("cannot tell which accounts are this node's: %s", error)
                    run.job_clean, run.stopped = False, True
                    continue
            already = self.crawled_of_day.get(_day_key(run.job), set())
            run.accounts_left = deque(account for account in ids if account not in already)
        self._send_chunks()

    def _send_chunks(self) -> None:
        run = self.current
        assert run is not None and run.job is not None
        while run.accounts_left and len(run.in_flight) < CHUNKS_IN_FLIGHT:
            batch_id = f"crawl-{uuid.uuid4().hex}"
            left = run.accounts_left
            chunk = tuple(left.popleft() for _ in range(min(self.chunk_sizing.size, len(left))))
            run.in_flight[batch_id] = (len(chunk), time.monotonic())
            self.send(self.supervisor, HandOff(batch_id, "crawl", chunk, run.job.day.isoformat()))

    def receiveMsg_HandOffDone(self, done: HandOffDone, sender) -> None:
        if done.batch_id in self.take_over_in_flight:
            accounts = self.take_over_in_flight.pop(done.batch_id)
            if done.batch_id.startswith("take-over-bill"):
                self.taking_over -= set(accounts) - set(done.not_done)  # the rest: at the next tick
            else:  # calls handed back (the store away): their accounts are taken over again
                self.calls_to_rate -= set(accounts) - set(done.not_done)
                self.taking_over |= set(done.not_done)
            if not done.not_done:
                self._take_over()  # the next chunk now; after a hand-back, at the next tick
            return
        run = self.current
        if run is None or done.batch_id not in run.in_flight:
            return
        sent, sent_at = run.in_flight.pop(done.batch_id)
        if run.job is not None:
            finished = self.crawled_of_day.setdefault(_day_key(run.job), set())
            finished.update(done.done, (account for account, _ in done.failed))
        run.accounts += len(done.done)
        run.failed += len(done.failed)
        run.not_done += len(done.not_done)
        if done.not_done:
            self._handed_back(run, done)
        else:
            self.chunk_sizing.answered(sent, time.monotonic() - sent_at)
        self._next_job()

    def _handed_back(self, run: CrawlPass, done: HandOffDone) -> None:
        """The job's day stays owed, resumed at the next tick from the accounts left, in small
        chunks. One account handed back alone (the others of the chunk billed), or only
        accounts handed back so before: its reseller is passed over and the others go on. Else,
        or a second reseller: the store is away, the pass stops here."""
        run.job_clean = False
        run.accounts_left.clear()
        self.chunk_sizing.reset()
        if run.job is None:
            run.stopped = True
            return
        key = _day_key(run.job)
        # A shard hands back the first account the store refuses alone in a batch, and a batch's
        # second refusal as an outage: one account here, or only those refused alone before.
        # Several, with others done, is the store going away mid-chunk (the rest not started).
        refused_before = set(done.not_done) <= self.refused_alone.get(key, set())
        alone = refused_before or (len(done.not_done) == 1 and bool(done.done or done.failed))
        if alone and run.passed_over <= {run.job.reseller_id}:
            run.passed_over.add(run.job.reseller_id)
            self.refused_alone.setdefault(key, set()).update(done.not_done)
        else:
            run.stopped = True

    def _finish(self) -> None:
        run = self.current
        assert run is not None
        self.current = None
        log.info(
            "crawl pass: %d days, %d accounts, %d failed, %d handed back",
            len(run.crawled),
            run.accounts,
            run.failed,
            run.not_done,
        )
        self._answer(CrawlReport(tuple(run.crawled), run.accounts, run.failed, run.not_done), run.waiting)
        if self.asked:  # asked while this pass ran: the next pass answers them
            self._begin()

    def _answer(self, report: CrawlReport, waiting: list | None = None) -> None:
        for asker in waiting if waiting is not None else self.asked:
            self.send(asker, report)
        if waiting is None:
            self.asked = []

    # ------------------------------------------------------------ distributed mode

    def _node(self) -> str | None:
        return self.ownership.node if self.ownership is not None else None

    def _follow_the_cluster(self) -> None:
        """When the live nodes changed: this node's crawl falls back to the cluster's earliest
        day, and the accounts it gained are billed and their recent calls rated again."""
        assert self.ownership is not None and self.ports is not None
        try:
            live = self.ownership.live(fresh=True)
            if live != self.cluster and self.ownership.node in live:
                before = self.cluster or ()
                fall_back(self.ports.store, self.ownership.node, [*before, *live])
                gained, orphaned = taken_over(self.ports.store, before, live, self.ownership.node)
                log.info(
                    "the cluster is %s (was %s): taking %d accounts over (%d from a node that left)",
                    ", ".join(live),
                    ", ".join(before) or "nothing",
                    len(gained),
                    len(orphaned),
                )
                self.taking_over |= set(gained)
                self.calls_to_rate |= set(orphaned)
                self.cluster = live
                self.crawled_of_day.clear()  # the accounts owned changed: each day's crawl starts over
                self.refused_alone.clear()
                if self.current is not None:  # a pass planned for the old cluster records no day:
                    self.current.job_clean = False  # the next one crawls from the fallen-back record
                    self.current.stopped = True  # nor goes on to its later jobs
                    self.current.accounts_left.clear()
        except Exception as error:  # noqa: BLE001 - the store may be down: the next tick tries again
            log.warning("cannot follow the cluster: %s", error)
            return
        self._take_over()

    def _take_over(self) -> None:
        if self.take_over_in_flight or not self.taking_over:
            return
        assert self.ports is not None
        chunk = tuple(sorted(self.taking_over)[:CHUNK_SIZE])
        today = self.ports.clock.now().date()
        try:
            calls = [
                call
                for account_id in chunk
                if account_id in self.calls_to_rate
                for call in recent_calls(self.ports.store, account_id, today)
            ]
        except Exception as error:  # noqa: BLE001 - the next tick tries again
            log.warning("cannot read the calls of the accounts taken over: %s", error)
            return
        bill_id, rate_id = f"take-over-bill-{uuid.uuid4().hex}", f"take-over-rate-{uuid.uuid4().hex}"
        self.take_over_in_flight[bill_id] = chunk
        self.send(self.supervisor, HandOff(bill_id, "reconcile", chunk, None))
        self.calls_to_rate -= set(chunk) if not calls else set()
        if calls:
            self.take_over_in_flight[rate_id] = chunk
            self.send(
                self.supervisor, HandOff(rate_id, "rate", tuple(c.account_id for c in calls), None, calls=tuple(calls))
            )


def _day_key(job: CrawlJob) -> tuple[str, str]:
    return job.reseller_id, job.day.isoformat()
