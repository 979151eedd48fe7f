"""Which stored failures `kazbill failures replay` hands to the shards again, and as what."""

from __future__ import annotations

import dataclasses

import pytest

from bookkeeper.domain.calls import FinishedCall
from bookkeeper.services.operations.failure_replay import (
    DIED_TWICE,
    NotReplayable,
    ReplayWork,
    kills_shards,
    replay_work,
)

ACCOUNT, OTHER = "a" * 32, "b" * 32


def record(reason_code: str, payload: object) -> dict:
    return {"_id": "failure-x", "pvt_type": "failure", "reason_code": reason_code, "payload": payload}


def test_a_pass_that_raised_twice_is_replayed_as_the_crawl_or_the_reconcile_it_was():
    crawl = record("billing_crashed", {"account_id": ACCOUNT, "day": "2026-12-02", "reason": "boom"})
    assert replay_work(crawl) == ReplayWork("crawl", (ACCOUNT,), "2026-12-02")
    change = record("billing_crashed", {"account_id": ACCOUNT, "day": None, "reason": "boom"})
    assert replay_work(change) == ReplayWork("reconcile", (ACCOUNT,), None)


def test_a_shards_failed_work_is_replayed_whole_its_calls_as_they_were_stored():
    crawl = record("shard_work_failed", {"kind": "crawl", "day": "2026-12-02", "account_ids": [ACCOUNT, OTHER]})
    assert replay_work(crawl) == ReplayWork("crawl", (ACCOUNT, OTHER), "2026-12-02")
    call = FinishedCall(ACCOUNT, "call-1", 61, "+74951234567", "outbound", True, 63_900_000_000, "+7", ("account",))
    rate = record(
        "shard_work_failed",
        {"kind": "rate", "day": None, "account_ids": [ACCOUNT], "calls": [dataclasses.asdict(call)]},
    )
    assert replay_work(rate) == ReplayWork("rate", (ACCOUNT,), None, (call,))


def test_a_call_whose_rating_raised_twice_is_rated_again_alone():
    call = FinishedCall(ACCOUNT, "call-2", 30, "+74951234567", "outbound", True, 63_900_000_000)
    crashed = record("rating_crashed", {"call": dataclasses.asdict(call)})
    assert replay_work(crashed) == ReplayWork("rate", (ACCOUNT,), None, (call,))


def test_only_work_a_shard_died_on_twice_may_kill_shards_when_replayed():
    died = {**record("shard_work_failed", {"kind": "reconcile", "account_ids": [ACCOUNT]}), "reason": DIED_TWICE}
    hung = {**died, "reason": "the shard hung on this work (no answer in 90s) and was killed"}
    assert kills_shards(died) and not kills_shards(hung)
    assert not kills_shards(record("billing_crashed", {"account_id": ACCOUNT, "day": None}))


@pytest.mark.parametrize(
    "bad, said",
    [
        ({**record("handoff_failed", {"body": "x"})}, "corrected by a person"),
        ({**record("shard_work_failed", {"kind": "steal", "account_ids": [ACCOUNT]})}, "payload.kind"),
        ({**record("shard_work_failed", {"kind": "reconcile", "account_ids": []})}, "payload.account_ids"),
        ({**record("shard_work_failed", {"kind": "reconcile", "account_ids": ["../x"]})}, "not a Kazoo account id"),
        ({**record("billing_crashed", {"account_id": ACCOUNT, "day": "2 Dec"})}, "payload.day"),
        ({**record("shard_work_failed", {"kind": "rate", "calls": [{"account_id": ACCOUNT}]})}, "payload.calls"),
        ({**record("shard_work_failed", {"kind": "rate", "calls": []})}, "payload.calls"),
        ({**record("billing_crashed", {}), "pvt_type": "failure_seen"}, "corrected by a person"),
    ],
)
def test_what_is_not_the_shards_failed_work_is_refused_naming_why(bad, said):
    with pytest.raises(NotReplayable, match=said):
        replay_work(bad)
