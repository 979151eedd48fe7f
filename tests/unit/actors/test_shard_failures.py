"""Work a shard failed for good is stored for a person, every account and call of it in some
record: a merged rating holds up to 24,000 calls, and a stored list is cut at 1,000."""

from __future__ import annotations

from actors.messages import ShardWork
from actors.shard_failures import record_shard_failure
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.ports import ViewQuery
from bookkeeper.services.operations.failure_replay import replay_work
from bookkeeper.services.setup.failures import FAILURES_DB

ACCOUNTS = [f"{n:032x}" for n in range(1, 4)]


def stored(store) -> list[dict]:
    rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    return [row.doc for row in rows if row.doc and row.doc.get("pvt_type") == "failure"]


def test_a_failed_rating_of_2500_calls_is_three_records_that_replay_every_call_once(tmp_path):
    store = EmbeddedStore(tmp_path / "k.sqlite3")
    calls = tuple(
        FinishedCall(ACCOUNTS[n % 3], f"call-{n:05d}", 60, "+74951234567", "outbound", True, 63_900_000_000)
        for n in range(2_500)
    )
    work = ShardWork("rate-1", "rate", tuple(call.account_id for call in calls), None, calls, parts=(1_000, 1_500))
    record_shard_failure(store, None, work, "the shard hung on this work (no answer in 90s) and was killed")
    records = stored(store)
    assert sorted(record["payload"]["part"] for record in records) == ["1 of 3", "2 of 3", "3 of 3"]
    replayed = [replay_work(record) for record in records]
    replayed_calls = [call for work in replayed for call in work.calls]
    assert len(replayed_calls) == len(calls) and set(replayed_calls) == set(calls)  # each once, none cut
    for work in replayed:
        assert work.account_ids == tuple(call.account_id for call in work.calls)
    store.close()


def test_a_small_failed_work_is_one_record_as_before(tmp_path):
    store = EmbeddedStore(tmp_path / "k.sqlite3")
    record_shard_failure(store, None, ShardWork("crawl-1", "crawl", tuple(ACCOUNTS), "2026-12-02"), "died twice")
    [record] = stored(store)
    assert "part" not in record["payload"] and record["payload"]["account_ids"] == ACCOUNTS
    assert replay_work(record).account_ids == tuple(ACCOUNTS)
    store.close()
