"""Old logouts' records go (crossbar_api/revocation_records.py): after a logout, at most once an
hour a process, the records of tokens that expired a week before go, in either id shape; the
records of tokens alive, or expired less than a week ago, stay. Real embedded stores."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import ViewQuery
from crossbar_api.revocation_records import (
    LEGACY_PREFIX,
    SWEEP_AFTER_S,
    RevocationSweep,
    read_revocation,
    sweep_revocations,
    write_revocation,
)
from crossbar_api.revocations import ReadEveryTime
from testkit.fixtures.api_world import token_claims as claims

NOW = 1_780_000_000  # Unix seconds (May 2026)
DAY = 86_400


def stored_ids(store: EmbeddedStore) -> set[str]:
    return {str(row.id) for row in store.all_docs(SYSTEM_DB, ViewQuery()).rows}


class Ticking:
    """A monotonic clock a test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sweep_at(now: float, **kwargs: Any) -> RevocationSweep:
    return RevocationSweep(lambda: now, host_time=lambda: now, **kwargs)


def test_a_logout_sweeps_the_records_of_tokens_expired_a_week_before_and_keeps_the_rest(store):
    old, recent, alive = claims("old", NOW - 8 * DAY), claims("recent", NOW - 6 * DAY), claims("alive", NOW + DAY)
    for each in (old, recent, alive):
        write_revocation(store, each)
    store.put(SYSTEM_DB, {"_id": LEGACY_PREFIX + "legacy-old", "pvt_type": "t", "expires": NOW - 9 * DAY})
    store.put(SYSTEM_DB, {"_id": LEGACY_PREFIX + "legacy-alive", "pvt_type": "t", "expires": NOW + DAY})
    store.put(SYSTEM_DB, {"_id": "api_token_secret", "pvt_type": "kazbill_secret", "secret": "s"})
    logouts = ReadEveryTime(sweep_at(NOW))
    logouts.revoke(store, claims("now", NOW + 3600))
    assert not read_revocation(store, old)
    assert all(read_revocation(store, each) for each in (recent, alive, claims("now", NOW + 3600)))
    assert LEGACY_PREFIX + "legacy-old" not in stored_ids(store)
    assert {LEGACY_PREFIX + "legacy-alive", "api_token_secret"} <= stored_ids(store)


def test_a_process_sweeps_at_most_once_an_hour(store):
    ticking = Ticking()
    sweep = RevocationSweep(lambda: NOW, host_time=lambda: NOW, monotonic=ticking)
    write_revocation(store, claims("first", NOW - 8 * DAY))
    assert sweep.after_logout(store) == 1
    write_revocation(store, claims("second", NOW - 8 * DAY))
    ticking.now = 3_599.0
    assert sweep.after_logout(store) == 0 and read_revocation(store, claims("second", NOW - 8 * DAY))
    ticking.now = 3_600.0
    assert sweep.after_logout(store) == 1 and not read_revocation(store, claims("second", NOW - 8 * DAY))


def test_the_sweep_goes_by_the_earlier_of_the_apis_clock_and_the_hosts():
    """A demo's clock set months back: its tokens expire in its past, which the host's clock has
    long passed; their records stay while that demo's tokens may still be alive."""
    swept_at: list[float] = []

    class Recording:
        def all_docs(self, db: str, query: ViewQuery) -> Any:
            swept_at.append(query.end_key)
            raise LookupError("stop here")

    for wall, host in ((NOW - 90 * DAY, NOW), (NOW + 90 * DAY, NOW)):
        with pytest.raises(LookupError):
            RevocationSweep(lambda wall=wall: wall, host_time=lambda host=host: host).after_logout(Recording())  # type: ignore[arg-type]
    assert swept_at == [
        f"revoked_until:{NOW - 90 * DAY - SWEEP_AFTER_S:012d}",
        f"revoked_until:{NOW - SWEEP_AFTER_S:012d}",
    ]


def test_a_record_another_worker_swept_first_is_no_error(store):
    write_revocation(store, claims("old", NOW - 8 * DAY))

    class Late:  # lists the record, which another worker deletes before this one's write
        def __init__(self, backing: EmbeddedStore):
            self.backing = backing

        def all_docs(self, db: str, query: ViewQuery) -> Any:
            result = self.backing.all_docs(db, query)
            if query.start_key and str(query.start_key).startswith("revoked_until:") and result.rows:
                assert sweep_revocations(self.backing, NOW - SWEEP_AFTER_S) == 1
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(self.backing, name)

    assert sweep_revocations(Late(store), NOW - SWEEP_AFTER_S) == 0  # type: ignore[arg-type]
    assert not read_revocation(store, claims("old", NOW - 8 * DAY))


def test_without_a_system_database_there_is_nothing_to_sweep(tmp_path):
    store = EmbeddedStore(tmp_path / "empty.sqlite3")
    try:
        assert sweep_at(NOW).after_logout(store) == 0
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expiries=st.lists(st.integers(min_value=NOW - 30 * DAY, max_value=NOW + 30 * DAY), max_size=12))
def test_exactly_the_records_of_tokens_expired_a_week_before_go(tmp_path_factory, expiries):
    store = EmbeddedStore(tmp_path_factory.mktemp("sweep") / "api.sqlite3")
    try:
        store.ensure_database(SYSTEM_DB)
        tokens = [claims(f"t{n}", expires) for n, expires in enumerate(expiries)]
        for token in tokens:
            write_revocation(store, token)
        swept = sweep_revocations(store, NOW - SWEEP_AFTER_S)
        kept = [token for token in tokens if read_revocation(store, token)]
        assert kept == [token for token in tokens if token.expires >= NOW - SWEEP_AFTER_S]
        assert swept == len(tokens) - len(kept)
    finally:
        store.close()


def test_a_sweep_takes_at_most_its_share_and_the_next_one_the_rest(store, monkeypatch):
    monkeypatch.setattr("crossbar_api.revocation_records.SWEEP_AT_MOST", 3)
    tokens = [claims(f"old{n}", NOW - 8 * DAY - n) for n in range(5)]
    for token in tokens:
        write_revocation(store, token)
    assert sweep_revocations(store, NOW - SWEEP_AFTER_S) == 3
    assert sweep_revocations(store, NOW - SWEEP_AFTER_S) == 2
    assert not any(read_revocation(store, token) for token in tokens)
