"""Rating held for a busy shard goes to it as one work, and its report goes back batch by batch
(actors/work_merging.py), in the supervisor as it routes (actors/supervisor.py)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st
from thespian.actors import ChildActorExited, PoisonMessage

from actors.messages import HandOff, HandOffDone, ShardWork, ShardWorkDone
from actors.supervision import RestartBudget
from actors.supervisor import Supervisor
from actors.work_merging import WorkMerging, split_rating, split_reconciling
from bookkeeper.domain.calls import FinishedCall

ENDED = 63_900_000_000


def call(account: str, call_id: str) -> FinishedCall:
    return FinishedCall(account, call_id, 61, "74951234567", "outbound", True, ENDED)


def work(batch_id: str, *accounts: str) -> ShardWork:
    calls = tuple(call(account, f"{batch_id}-{n}") for n, account in enumerate(accounts))
    return ShardWork(batch_id, "rate", accounts, None, calls)


def test_one_held_batch_goes_as_it_came_and_several_go_as_one():
    merging = WorkMerging()
    assert merging.release(0, set()) == []
    merging.hold(0, work("b1", "A"))
    assert merging.release(0, {"rate"}) == [] and merging.waiting() == 1  # the shard is rating
    assert merging.release(0, {"reconcile"}) == [work("b1", "A")]
    merging.hold(0, work("b2", "A", "B"))
    merging.hold(0, work("b3", "B", "C"))
    assert merging.release(1, set()) == []  # another shard's
    [merged] = merging.release(0, set())
    assert merged.batch_id.startswith("merged-") and merged.parts == (2, 2)
    assert merged.account_ids == ("A", "B", "B", "C")
    assert [c.call_id for c in merged.calls] == ["b2-0", "b2-1", "b3-0", "b3-1"]
    assert merging.waiting() == 0 and merging.batches_in(merged) == 2
    reports = merging.reports(merged.batch_id, ["A", "B", "B", "C"], [], [], [("call_charged", "C")])
    assert [(r.batch_id, r.done, r.events) for r in reports] == [
        ("b2", ("A", "B"), ()),
        ("b3", ("B", "C"), (("call_charged", "C"),)),
    ]
    # Forgotten at its first report: a late second one is about no batch waited for.
    assert [r.batch_id for r in merging.reports(merged.batch_id, [], [], [])] == [merged.batch_id]


def test_a_merged_work_that_failed_goes_again_batch_by_batch_first_in_line():
    merging = WorkMerging()
    for batch in (work("b1", "A"), work("b2", "B")):
        merging.hold(0, batch)
    [merged] = merging.release(0, set())
    merging.hold(0, work("b3", "C"))
    assert merging.unmerge(0, merged.batch_id) and not merging.unmerge(0, "b3")
    assert merging.release(0, set()) == [work("b1", "A")]
    assert merging.release(0, set()) == [work("b2", "B")]
    assert merging.release(0, set()) == [work("b3", "C")]


def test_a_reseller_handed_back_for_its_standing_sends_every_batch_again():
    works = [work("b1", "A"), work("b2", "S")]  # R is the reseller of both; its standing failed
    reports = split_rating(works, ["A", "S"], [], ["R"], [])
    assert [(r.done, r.not_done) for r in reports] == [(("A",), ("R",)), (("S",), ("R",))]


def test_an_account_handed_back_is_handed_back_in_every_batch_with_its_calls():
    works = [work("b1", "A", "B"), work("b2", "B", "C")]
    reports = split_rating(works, ["A", "C"], [], ["B"], [])
    assert [(r.done, r.not_done) for r in reports] == [(("A",), ("B",)), (("C",), ("B",))]


def test_failed_calls_and_a_standing_failure_keep_their_reasons():
    works = [work("b1", "A", "A"), work("b2", "A")]
    # one call of A failed twice (rating_crashed), A's standing pass failed afterwards
    reports = split_rating(works, ["A", "A"], [("A", "call crashed"), ("A", "standing crashed")], [], [])
    assert reports[0].done == ("A", "A") and reports[1].done == ()
    assert reports[1].failed == (("A", "call crashed"),)
    assert reports[0].failed == (("A", "standing crashed"),)  # what the calls do not account for


def test_a_call_the_report_does_not_speak_of_is_rated_again():
    reports = split_rating([work("b1", "A", "B")], ["A"], [], [], [])
    assert reports[0].not_done == ("B",)


accounts = st.sampled_from(["A", "B", "C", "D"])


@given(
    batches=st.lists(st.lists(accounts, min_size=1, max_size=6), min_size=1, max_size=4),
    outcome=st.lists(st.sampled_from(["done", "failed", "back"]), min_size=24, max_size=24),
    standing_back=st.sets(st.sampled_from(["A", "B", "R"])),
)
def test_a_split_report_speaks_of_every_call_once_and_hands_back_whole_accounts(batches, outcome, standing_back):
    """As rate_calls reports: each call done, failed or handed back (the store gone), and then
    the debited accounts whose standing could not be billed (R: a reseller that placed none)."""
    works = [work(f"b{n}", *part) for n, part in enumerate(batches)]
    calls = [account for w in works for account in w.account_ids]
    back = {account for account, what in zip(calls, outcome, strict=False) if what == "back"}
    done = [a for a, what in zip(calls, outcome, strict=False) if what == "done" and a not in back]
    failed = [(a, f"reason {n}") for n, (a, what) in enumerate(zip(calls, outcome, strict=False)) if what == "failed"]
    failed = [(a, reason) for a, reason in failed if a not in back]
    handed_back = back | standing_back
    reports = split_rating(works, done, failed, sorted(handed_back), [])
    assert [r.batch_id for r in reports] == [w.batch_id for w in works]
    for w, report in zip(works, reports, strict=True):
        # (a call of an account handed back may also have failed: its reason is kept beside)
        failed_calls = Counter(a for a, _ in report.failed if a not in handed_back)
        calls_spoken = Counter(report.done) + failed_calls + Counter(report.not_done)
        assert calls_spoken - Counter(handed_back - set(calls)) == Counter(w.account_ids)
        assert all(account in report.not_done for account in w.account_ids if account in handed_back)
        assert handed_back - set(calls) <= set(report.not_done)  # a reseller's: every batch again
    assert Counter(a for r in reports for a in r.done) <= Counter(done)
    assert sorted(f for r in reports for f in r.failed) == sorted(failed)


class Recorded(Supervisor):
    """The supervisor's routing without an actor system: what it sends is recorded."""

    def __init__(self, shards: int):
        super().__init__()
        self.sent: list[tuple[object, object]] = []
        self.config = object()  # started (only its presence is looked at when routing)
        self.shards = [f"shard-{index}" for index in range(shards)]
        self.in_flight = {index: {} for index in range(shards)}

    def send(self, target, message):  # type: ignore[override]
        self.sent.append((target, message))

    def _record(self, work, reason):  # a stored failure: not what these tests look at
        pass

    def status_in_flight(self) -> int:
        return sum(len(works) for works in self.in_flight.values()) + self.merging.waiting()

    def taken(self) -> list[tuple[object, object]]:
        sent, self.sent = self.sent, []
        return sent


def test_a_shard_rating_a_batch_gets_the_batches_that_came_meanwhile_as_one_and_each_bridge_its_answer():
    supervisor = Recorded(shards=1)
    first = HandOff("b1", "rate", ("A",), calls=(call("A", "c1"),))
    supervisor.receiveMsg_HandOff(first, "bridge-1")
    [(to, sent)] = supervisor.taken()
    assert to == "shard-0" and sent.batch_id == "b1"
    supervisor.receiveMsg_HandOff(HandOff("b2", "rate", ("A",), calls=(call("A", "c2"),)), "bridge-2")
    supervisor.receiveMsg_HandOff(HandOff("b3", "rate", ("B",), calls=(call("B", "c3"),)), "bridge-3")
    supervisor.receiveMsg_HandOff(HandOff("r1", "reconcile", ("C",)), "bridge-4")
    [(to, reconcile)] = supervisor.taken()  # the rating waits, a reconcile does not
    assert reconcile.kind == "reconcile"
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")
    answered, (to, merged) = supervisor.taken()
    assert answered == ("bridge-1", HandOffDone("b1", ("A",), (), (), ()))
    assert merged.batch_id.startswith("merged-") and [c.call_id for c in merged.calls] == ["c2", "c3"]
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone(merged.batch_id, 0, ("A",), (), ("B",)), "shard-0")
    assert supervisor.taken() == [
        ("bridge-2", HandOffDone("b2", ("A",), (), (), ())),
        ("bridge-3", HandOffDone("b3", (), (), ("B",), ())),
    ]
    assert supervisor.in_flight == {0: {"r1": reconcile}}


def reconcile(batch_id: str, *accounts: str, day: str | None = None) -> ShardWork:
    return ShardWork(batch_id, "crawl" if day else "reconcile", accounts, day)


def test_reconciles_held_together_bill_each_account_once_and_each_batch_hears_of_its_own():
    merging = WorkMerging()
    merging.hold(0, reconcile("r2", "A", "B"))
    merging.hold(0, work("b1", "A"))  # rating is held apart
    merging.hold(0, reconcile("r3", "B", "C"))
    [merged] = merging.release(0, {"rate"})
    assert merged.account_ids == ("A", "B", "C") and merged.kind == "reconcile" and merged.parts == ()
    reports = merging.reports(merged.batch_id, ["A", "C"], [("B", "bad onbill")], [], [("charged", "B")])
    assert [(r.batch_id, r.done, r.failed, r.events) for r in reports] == [
        ("r2", ("A",), (("B", "bad onbill"),), (("charged", "B"),)),
        ("r3", ("C",), (("B", "bad onbill"),), (("charged", "B"),)),
    ]
    assert merging.waiting() == 1


@given(
    batches=st.lists(st.lists(accounts, min_size=1, max_size=4), min_size=1, max_size=4),
    outcome=st.dictionaries(accounts, st.sampled_from(["done", "failed", "back", "unspoken"])),
)
def test_a_split_reconcile_speaks_of_each_named_account_once_as_the_merged_report_did(batches, outcome):
    works = [reconcile(f"r{n}", *part) for n, part in enumerate(batches)]
    done = [a for a, what in outcome.items() if what == "done"]
    failed = [(a, f"{a} failed") for a, what in outcome.items() if what == "failed"]
    back = [a for a, what in outcome.items() if what == "back"]
    for w, report in zip(works, split_reconciling(works, done, failed, back, []), strict=True):
        spoken = [*report.done, *(a for a, _ in report.failed), *report.not_done]
        assert sorted(spoken) == sorted(set(w.account_ids))
        assert all(outcome.get(a) == "done" for a in report.done)
        assert all(outcome.get(a) == "failed" for a, _ in report.failed)
        assert all(outcome.get(a) in ("back", "unspoken", None) for a in report.not_done)


def test_a_crawl_goes_after_what_came_before_it_and_before_what_came_after():
    supervisor = Recorded(shards=1)
    supervisor.receiveMsg_HandOff(HandOff("r1", "reconcile", ("A",)), "bridge-1")
    supervisor.receiveMsg_HandOff(HandOff("b1", "rate", ("A",), calls=(call("A", "c1"),)), "bridge-3")
    assert [message.batch_id for _, message in supervisor.taken()] == ["r1", "b1"]  # kinds apart
    supervisor.receiveMsg_HandOff(HandOff("r2", "reconcile", ("A", "B")), "bridge-2")
    supervisor.receiveMsg_HandOff(HandOff("c1", "crawl", ("A",), day="2026-11-10"), "scheduler")
    supervisor.receiveMsg_HandOff(HandOff("b2", "rate", ("A",), calls=(call("A", "c2"),)), "bridge-3")
    supervisor.receiveMsg_HandOff(HandOff("r3", "reconcile", ("B",)), "bridge-4")
    assert supervisor.taken() == []  # r2 waits for r1, the crawl for r2, and the rest for the crawl
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")
    assert [message.batch_id for _, message in supervisor.taken()] == ["b1"]  # answered; nothing goes
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("r1", 0, ("A",), (), ()), "shard-0")
    answered, *sent = supervisor.taken()
    assert answered == ("bridge-1", HandOffDone("r1", ("A",), (), (), ()))
    assert [message.batch_id for _, message in sent] == ["r2", "c1", "b2"]  # r3 waits for r2
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("r2", 0, ("A", "B"), (), ()), "shard-0")
    assert [message.batch_id for _, message in supervisor.taken()] == ["r2", "r3"]


def test_a_merged_work_the_shard_dies_on_or_fails_twice_on_goes_again_one_batch_at_a_time():
    supervisor = Recorded(shards=1)
    supervisor._start_shard = lambda index: "shard-0-again"  # type: ignore[method-assign]
    supervisor.budget = RestartBudget(intensity=5, period_s=60.0)
    for batch_id, account in (("b1", "A"), ("b2", "A"), ("b3", "B")):
        supervisor.receiveMsg_HandOff(HandOff(batch_id, "rate", (account,), calls=(call(account, batch_id),)), "bridge")
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")
    merged = supervisor.taken()[-1][1]
    assert merged.parts == (1, 1)
    supervisor.receiveMsg_ChildActorExited(ChildActorExited("shard-0"), "system")
    [(to, alone)] = supervisor.taken()
    assert (to, alone.batch_id) == ("shard-0-again", "b2")  # b3 waits its turn, unmerged
    supervisor.receiveMsg_PoisonMessage(PoisonMessage(alone, "raised twice"), "shard-0-again")
    (_, failed), (_, next_one) = supervisor.taken()
    assert failed == HandOffDone("b2", (), (("A", "the shard failed twice on this work"),), (), ())
    assert next_one.batch_id == "b3"
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b3", 0, ("B",), (), ()), "shard-0-again")
    assert supervisor.taken() == [("bridge", HandOffDone("b3", ("B",), (), (), ()))]
    assert supervisor.status_in_flight() == 0


def test_a_batch_goes_alone_only_on_the_shard_that_failed_on_it_and_batches_keep_their_order():
    merging = WorkMerging()
    for shard in (0, 1):
        merging.hold(shard, work("b1", "A"))
        merging.hold(shard, work("b2", "B"))
    [merged] = merging.release(0, set())
    merging.hold(0, work("b3", "C"))
    merging.unmerge(0, merged.batch_id)  # shard 0 died on b1+b2
    [on_shard_1] = merging.release(1, set())
    assert on_shard_1.batch_id.startswith("merged-")  # shard 1 merges them as ever
    assert merging.release(0, set()) == [work("b1", "A")]
    merging.hold(0, work("b4", "D"))
    assert merging.release(0, set()) == [work("b2", "B")]  # alone, before b3 and b4
    [rest] = merging.release(0, set())
    assert [c.call_id for c in rest.calls] == ["b3-0", "b4-0"]


def test_dying_on_a_batch_of_a_merged_work_once_it_goes_alone_fails_it():
    supervisor = Recorded(shards=1)
    supervisor._start_shard = lambda index: f"shard-{index}-again"  # type: ignore[method-assign]
    supervisor.budget = RestartBudget(intensity=5, period_s=60.0)
    for batch_id in ("b1", "b2", "b3"):
        supervisor.receiveMsg_HandOff(HandOff(batch_id, "rate", ("A",), calls=(call("A", batch_id),)), "bridge")
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")
    supervisor.taken()
    supervisor.receiveMsg_ChildActorExited(ChildActorExited("shard-0"), "system")  # on b2+b3
    assert [m.batch_id for _, m in supervisor.taken()] == ["b2"]
    supervisor.receiveMsg_ChildActorExited(ChildActorExited("shard-0-again"), "system")  # on b2 alone
    (_, failed), (_, next_one) = supervisor.taken()
    assert failed == HandOffDone("b2", (), (("A", "the shard process died twice on this work"),), (), ())
    assert next_one.batch_id == "b3"


def test_giving_up_hands_back_every_batch_in_flight_or_held_and_sends_nothing_more():
    supervisor = Recorded(shards=2)
    supervisor.receiveMsg_HandOff(HandOff("b1", "rate", ("A",), calls=(call("A", "c1"),)), "bridge-1")
    supervisor.receiveMsg_HandOff(HandOff("b2", "rate", ("A",), calls=(call("A", "c2"),)), "bridge-2")
    supervisor.receiveMsg_HandOff(HandOff("r1", "reconcile", ("A", "B")), "bridge-3")
    supervisor.taken()
    supervisor._give_up("the restart budget is spent")
    answers = {message.batch_id: (to, message) for to, message in supervisor.taken()}
    assert answers == {
        "b1": ("bridge-1", HandOffDone("b1", (), (), ("A",), ())),  # in flight: a shard may yet write it,
        "b2": ("bridge-2", HandOffDone("b2", (), (), ("A",), ())),  # which its redelivery finds written
        "r1": ("bridge-3", answers["r1"][1]),
    }
    assert sorted(answers["r1"][1].not_done) == ["A", "B"] and not answers["r1"][1].done
    assert supervisor.status_in_flight() == 0
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")  # late: no one waits
    recorded = []
    supervisor._record = lambda work, reason: recorded.append(work.batch_id)  # type: ignore[method-assign]
    supervisor.receiveMsg_PoisonMessage(PoisonMessage(work("b2", "A"), "raised twice"), "shard-0")
    assert recorded == [] and supervisor.taken() == []  # handed back already: no failure stored for it
    supervisor.receiveMsg_HandOff(HandOff("b3", "rate", ("A",), calls=(call("A", "c3"),)), "bridge-1")
    assert supervisor.taken() == [("bridge-1", HandOffDone("b3", (), (), ("A",), ()))]


def test_giving_up_hands_back_each_batch_of_a_merged_work_in_flight():
    supervisor = Recorded(shards=1)
    supervisor.receiveMsg_HandOff(HandOff("b1", "rate", ("A",), calls=(call("A", "c1"),)), "bridge-1")
    supervisor.receiveMsg_HandOff(HandOff("b2", "rate", ("A",), calls=(call("A", "c2"),)), "bridge-2")
    supervisor.receiveMsg_HandOff(HandOff("b3", "rate", ("B",), calls=(call("B", "c3"),)), "bridge-3")
    supervisor.receiveMsg_ShardWorkDone(ShardWorkDone("b1", 0, ("A",), (), ()), "shard-0")
    supervisor.taken()  # b1 answered, b2 and b3 sent as one
    supervisor._give_up("the restart budget is spent")
    assert sorted(supervisor.taken(), key=lambda sent: sent[1].batch_id) == [
        ("bridge-2", HandOffDone("b2", (), (), ("A",), ())),
        ("bridge-3", HandOffDone("b3", (), (), ("B",), ())),
    ]
