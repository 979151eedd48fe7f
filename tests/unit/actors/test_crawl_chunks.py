"""The scheduler cuts a day's crawl into chunks as it sends them, each as big as the shards
answered within about a second (actors/scheduler.py): small on a slow store, so that an event
queued at a shard waits behind a chunk or two of a few accounts, not of fifty."""

from __future__ import annotations

from collections import deque
from datetime import date
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actors.scheduler as scheduler_module
from actors.crawl_pass import CrawlPass
from actors.messages import CrawlReport, HandOff, HandOffDone
from actors.scheduler import CHUNK_SIZE, CHUNK_SMALLEST, CHUNKS_IN_FLIGHT, Scheduler
from bookkeeper.services.billing.crawl_plan import CrawlJob

DAY = date(2026, 3, 2)


class Recorded(Scheduler):
    """The scheduler's chunking without an actor system, a store or a clock of its own."""

    def __init__(self, monkeypatch) -> None:
        super().__init__()
        self.now = 0.0
        self.sent: list[HandOff] = []
        self.answered_with: list[CrawlReport] = []
        self.marked: list[tuple[str, date]] = []
        self.ports = SimpleNamespace(store=None)  # type: ignore[assignment]  # mark_crawled is replaced
        monkeypatch.setattr(scheduler_module, "time", SimpleNamespace(monotonic=lambda: self.now))  # its own clock
        monkeypatch.setattr(
            scheduler_module, "mark_crawled", lambda store, reseller, day, node: self.marked.append((reseller, day))
        )

    def send(self, target, message):  # type: ignore[override]
        if isinstance(message, HandOff):
            self.sent.append(message)
        else:
            self.answered_with.append(message)

    def crawl(self, *jobs: CrawlJob) -> None:
        self.current = CrawlPass(deque(jobs), waiting=["asker"])
        self._next_job()

    def answer(self, chunk: HandOff, after_s: float, not_done: tuple[str, ...] = ()) -> None:
        self.now += after_s
        done = tuple(account for account in chunk.account_ids if account not in not_done)
        self.receiveMsg_HandOffDone(HandOffDone(chunk.batch_id, done, (), not_done), "supervisor")


def accounts(count: int) -> tuple[str, ...]:
    return tuple(f"acct{n:04d}" for n in range(count))


def test_chunks_start_small_grow_while_answered_within_a_second_and_shrink_when_late(monkeypatch):
    scheduler = Recorded(monkeypatch)
    scheduler.crawl(CrawlJob("reseller", DAY, accounts(400)))
    assert [len(chunk.account_ids) for chunk in scheduler.sent] == [CHUNK_SMALLEST] * CHUNKS_IN_FLIGHT
    for _ in range(9):  # the embedded store's pace: every chunk answered in 0.1 s
        scheduler.answer(scheduler.sent[-CHUNKS_IN_FLIGHT], 0.1)
    sizes = [len(chunk.account_ids) for chunk in scheduler.sent]
    assert sizes == [5, 5, 10, 10, 20, 20, 40, 40, 50, 50, 50] and max(sizes) == CHUNK_SIZE
    scheduler.answer(scheduler.sent[-CHUNKS_IN_FLIGHT], 4.0)  # CouchDB's pace: 50 took 4 s
    assert len(scheduler.sent[-1].account_ids) == 50 // 4


def test_every_account_goes_once_in_order_and_the_day_is_recorded_when_all_answered(monkeypatch):
    scheduler = Recorded(monkeypatch)
    scheduler.crawl(CrawlJob("r1", DAY, accounts(23)), CrawlJob("r2", DAY, accounts(3)))
    while scheduler.current is not None:
        scheduler.answer(next(c for c in scheduler.sent if c.batch_id in scheduler.current.in_flight), 0.5)
    sent = [chunk.account_ids for chunk in scheduler.sent]
    assert [a for chunk in sent for a in chunk] == list(accounts(23)) + list(accounts(3))
    assert scheduler.marked == [("r1", DAY), ("r2", DAY)]
    assert scheduler.answered_with == [CrawlReport((("r1", "2026-03-02"), ("r2", "2026-03-02")), 26, 0, 0)]


def test_a_chunk_handed_back_stops_the_pass_leaves_the_day_owed_and_starts_small_again(monkeypatch):
    scheduler = Recorded(monkeypatch)
    scheduler.crawl(CrawlJob("r1", DAY, accounts(200)))
    for _ in range(4):
        scheduler.answer(scheduler.sent[-CHUNKS_IN_FLIGHT], 0.1)
    first, second = scheduler.sent[-2:]
    scheduler.answer(first, 0.1, not_done=first.account_ids)  # the store went away
    assert scheduler.chunk_sizing.size == CHUNK_SMALLEST
    scheduler.answer(second, 0.1)
    assert scheduler.current is None and scheduler.marked == []
    assert scheduler.answered_with[0].not_done == len(first.account_ids)


def test_an_account_handed_back_alone_holds_back_its_reseller_not_the_others(monkeypatch):
    # r1's crawl: one account refused alone (the store answered the rest). r1's day stays
    # owed and its next day waits for it; r2 is crawled all the same. Before, the pass stopped
    # at r1 and every reseller after it waited for the refused account to be stored (minutes).
    scheduler = Recorded(monkeypatch)
    later = date(2026, 3, 3)
    scheduler.crawl(
        CrawlJob("r1", DAY, accounts(3)), CrawlJob("r1", later, accounts(3)), CrawlJob("r2", DAY, accounts(3))
    )
    (chunk,) = scheduler.sent
    scheduler.answer(chunk, 0.1, not_done=("acct0001",))
    while scheduler.current is not None:
        scheduler.answer(next(c for c in scheduler.sent if c.batch_id in scheduler.current.in_flight), 0.1)
    assert scheduler.marked == [("r2", DAY)]
    assert [c.account_ids for c in scheduler.sent[1:]] == [accounts(3)]  # r2's, not r1's later day
    assert scheduler.answered_with == [CrawlReport((("r2", "2026-03-02"),), 5, 0, 1)]
    assert scheduler.crawled_of_day[("r1", "2026-03-02")] == {"acct0000", "acct0002"}  # resumed from acct0001


def test_the_next_tick_the_refused_account_alone_handed_back_again_still_holds_back_only_its_reseller(monkeypatch):
    scheduler = Recorded(monkeypatch)
    jobs = (CrawlJob("r1", DAY, accounts(3)), CrawlJob("r2", DAY, accounts(2)), CrawlJob("r3", DAY, accounts(2)))
    scheduler.crawl(*jobs)
    scheduler.answer(scheduler.sent[0], 0.1, not_done=("acct0001",))
    scheduler.answer(scheduler.sent[1], 0.1, not_done=accounts(2))  # r2's chunk handed back whole: the store away
    assert scheduler.current is None and scheduler.marked == []
    scheduler.crawl(*jobs)  # the next tick: r1 resumes from its refused account alone
    assert scheduler.sent[2].account_ids == ("acct0001",)
    scheduler.answer(scheduler.sent[2], 0.1, not_done=("acct0001",))
    while scheduler.current is not None:
        scheduler.answer(next(c for c in scheduler.sent if c.batch_id in scheduler.current.in_flight), 0.1)
    assert scheduler.marked == [("r2", DAY), ("r3", DAY)]


def test_a_cluster_change_ends_the_pass_planned_for_the_old_cluster(monkeypatch):
    # b left while this node crawled r1's 2nd and 3rd of March: the crawl record fell back, and
    # the pass records neither day nor goes on to the 3rd (the next pass plans from the record).
    scheduler = Recorded(monkeypatch)
    monkeypatch.setattr(scheduler_module, "fall_back", lambda *args: None)
    monkeypatch.setattr(scheduler_module, "taken_over", lambda *args: ((), ()))
    scheduler.ownership = SimpleNamespace(node="a", live=lambda fresh=False: ("a",), mine=list)
    scheduler.cluster = ("a", "b")
    scheduler.crawl(CrawlJob("r1", DAY, accounts(30)), CrawlJob("r1", date(2026, 3, 3), accounts(30)))
    scheduler._follow_the_cluster()
    while scheduler.current is not None:
        scheduler.answer(next(c for c in scheduler.sent if c.batch_id in scheduler.current.in_flight), 0.1)
    assert scheduler.marked == [] and {chunk.day for chunk in scheduler.sent} == {"2026-03-02"}


def test_a_store_going_away_mid_chunk_stops_the_pass(monkeypatch):
    # The shard billed two accounts, then the store went away: the three not started are handed
    # back with them. An outage, not a refusal: r2 is not tried.
    scheduler = Recorded(monkeypatch)
    scheduler.crawl(CrawlJob("r1", DAY, accounts(5)), CrawlJob("r2", DAY, accounts(3)))
    scheduler.answer(scheduler.sent[0], 0.1, not_done=accounts(5)[2:])
    assert scheduler.current is None and len(scheduler.sent) == 1 and scheduler.refused_alone == {}


def test_a_second_reseller_handing_back_stops_the_pass(monkeypatch):
    scheduler = Recorded(monkeypatch)
    scheduler.crawl(
        CrawlJob("r1", DAY, accounts(3)), CrawlJob("r2", DAY, accounts(3)), CrawlJob("r3", DAY, accounts(3))
    )
    scheduler.answer(scheduler.sent[0], 0.1, not_done=("acct0001",))
    scheduler.answer(scheduler.sent[1], 0.1, not_done=("acct0002",))
    assert scheduler.current is None and scheduler.marked == [] and len(scheduler.sent) == 2


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=300),
    seconds=st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=40),
)
def test_whatever_the_shards_pace_each_account_is_sent_once_in_chunks_of_at_most_fifty(count, seconds):
    with pytest.MonkeyPatch.context() as monkeypatch:
        scheduler = Recorded(monkeypatch)
        scheduler.crawl(CrawlJob("r1", DAY, accounts(count)))
        pace = iter(seconds * (count + 1))
        while scheduler.current is not None:
            oldest = next(c for c in scheduler.sent if c.batch_id in scheduler.current.in_flight)
            scheduler.answer(oldest, next(pace))
        sent = [chunk.account_ids for chunk in scheduler.sent]
        assert [a for chunk in sent for a in chunk] == list(accounts(count))
        assert all(1 <= len(chunk) <= CHUNK_SIZE for chunk in sent)
        assert all(len(chunk) >= CHUNK_SMALLEST for chunk in sent[:-1])  # only the day's last is short
        assert scheduler.marked == [("r1", DAY)] and scheduler.answered_with[0].accounts == count
