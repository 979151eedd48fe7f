"""A worker knows the tokens logged out without asking the store on every request
(crossbar_api.revocations): a logout on the same worker or on another worker of the same host
holds at once, one on another host once the system database's feed delivers it, and while the
feed has not caught up, fails or stalls, every check asks the store as before. Real embedded
stores, real threads; "workers" here are feeds sharing (or not) a host's marks file."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import StoreUnavailable
from crossbar_api import revocations
from crossbar_api.auth import Caller, TokenClaims
from crossbar_api.revocations import LogoutMarks, ReadEveryTime, RevocationFeed, write_revocation
from testkit.support.kazbill_service import wait_for

LONGPOLL_S = 0.3  # short, so that a feed's thread notices a failure soon


def claims(token_id: str) -> TokenClaims:
    caller = Caller(account_id="a" * 32, user_id="u" * 32, is_admin=True, is_superduper=False, method="user_auth")
    return TokenClaims(caller=caller, token_id=token_id, expires=2_000_000_000)


class Counting:
    """The store, with the reads of revocations counted (what a request costs)."""

    def __init__(self, store: Any):
        self.store, self.gets = store, 0
        self.failing = False

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        self.gets += 1
        return self.store.get(db, doc_id)

    def changes(self, *args: Any, **kwargs: Any) -> Any:
        if self.failing:
            raise StoreUnavailable("test", "the store stopped answering")
        return self.store.changes(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    store.ensure_database(SYSTEM_DB)
    yield store
    store.close()


@pytest.fixture
def feeds():
    started: list[RevocationFeed] = []

    def feed(store: Any, marks: LogoutMarks, **kwargs: Any) -> RevocationFeed:
        started.append(RevocationFeed(store, marks, longpoll_s=LONGPOLL_S, **kwargs).start())
        wait_for(started[-1].following, 30, "the revocations feed to catch up")
        return started[-1]

    yield feed
    for each in started:
        each.stop()


def test_a_logout_on_this_worker_holds_at_once_and_a_check_reads_nothing(store, feeds, tmp_path):
    worker = feeds(store, LogoutMarks(tmp_path / "marks"))
    counted = Counting(store)
    assert worker.is_revoked(counted, "kept") is False
    worker.revoke(store, claims("gone"))
    assert worker.is_revoked(counted, "gone") is True
    assert worker.is_revoked(counted, "kept") is False
    assert counted.gets == 0
    assert store.get(SYSTEM_DB, "revoked_token:gone")["pvt_type"] == "kazbill_revoked_token"  # for every host


def test_a_logout_on_another_worker_of_the_host_holds_there_at_once(store, feeds, tmp_path):
    marks = tmp_path / "marks"
    one, other = feeds(store, LogoutMarks(marks)), feeds(store, LogoutMarks(marks))
    one.revoke(store, claims("gone"))
    counted = Counting(store)
    assert other.is_revoked(counted, "gone") is True  # no wait: the mark made it read the feed first
    assert [other.is_revoked(counted, "kept") for _ in range(3)] == [False] * 3
    assert counted.gets == 0


def test_a_logout_on_another_host_holds_once_the_feed_delivers_it(store, feeds, tmp_path):
    here = feeds(store, LogoutMarks(tmp_path / "this-host"))
    elsewhere = ReadEveryTime()  # another host's worker: writes the store, touches no mark of ours
    elsewhere.revoke(store, claims("gone"))
    counted = Counting(store)
    wait_for(lambda: here.is_revoked(counted, "gone"), 30, "the feed to deliver the revocation")
    assert counted.gets == 0  # learnt from the feed, not by reading per request


def test_revocations_stored_before_the_worker_started_hold(store, feeds, tmp_path):
    write_revocation(store, claims("old"))
    worker = feeds(store, LogoutMarks(tmp_path / "marks"))
    counted = Counting(store)
    assert worker.is_revoked(counted, "old") is True and counted.gets == 0


def test_until_the_feed_has_caught_up_every_check_reads_the_store(store, tmp_path):
    worker = RevocationFeed(store, LogoutMarks(tmp_path / "marks"))  # not started
    write_revocation(store, claims("gone"))
    counted = Counting(store)
    assert worker.is_revoked(counted, "gone") is True
    assert worker.is_revoked(counted, "kept") is False
    assert counted.gets == 2


def test_a_feed_that_fails_is_not_trusted_and_the_checks_read_the_store(store, feeds, tmp_path):
    flaky = Counting(store)
    worker = feeds(flaky, LogoutMarks(tmp_path / "marks"))
    flaky.failing = True
    wait_for(lambda: not worker.following(), 30, "the feed to notice the failure")
    ReadEveryTime().revoke(store, claims("gone"))  # another host, while this feed cannot read
    counted = Counting(store)
    assert worker.is_revoked(counted, "gone") is True and counted.gets == 1
    flaky.failing = False
    wait_for(worker.following, 30, "the feed to answer again")
    assert worker.is_revoked(Counting(store), "gone") is True


def test_a_feed_silent_past_its_longpoll_is_not_trusted(store, tmp_path):
    now = [1000.0]
    worker = RevocationFeed(store, LogoutMarks(tmp_path / "marks"), longpoll_s=20, clock=lambda: now[0])
    worker._since, worker._answered_at = "0", now[0]  # as the thread leaves it after an answer
    assert worker.following()
    now[0] += 20 + revocations._STALL_GRACE_S + 1
    counted = Counting(store)
    assert not worker.following()
    assert worker.is_revoked(counted, "kept") is False and counted.gets == 1


def test_the_marks_live_in_a_directory_only_this_user_may_write(tmp_path, monkeypatch):
    monkeypatch.setattr(revocations.tempfile, "gettempdir", lambda: str(tmp_path))
    marks = LogoutMarks.for_store("http://couch:5984")
    assert marks.path is not None and marks.path.parent.stat().st_mode & 0o777 == 0o700
    assert marks.now() is None
    marks.touch()
    first = marks.now()
    marks.touch()
    assert first is not None and marks.now() != first
    assert LogoutMarks.for_store("http://other:5984").path != marks.path  # one file per store


def test_a_directory_others_may_write_is_not_used(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(revocations.tempfile, "gettempdir", lambda: str(tmp_path))
    shared = tmp_path / f"kazbill-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    marks = LogoutMarks.for_store("http://couch:5984")
    assert marks.path is None and "through the store's feed only" in caplog.text
    marks.touch()  # does nothing, raises nothing
    assert marks.now() is None
