"""A worker knows the tokens logged out without asking the store on every request
(crossbar_api.revocations): a logout on the same worker or on another worker of the same host
holds at once, one on another host once the system database's feed delivers it, and while the
feed has not caught up, fails or stalls, every check asks the store as before. Real embedded
stores, real threads; "workers" here are feeds sharing (or not) a host's marks file."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import ChangesPage, DatabaseInfo, StoreUnavailable
from crossbar_api import logout_marks
from crossbar_api.logout_marks import LogoutMarks
from crossbar_api.revocation_records import LEGACY_PREFIX, revocation_id, write_revocation
from crossbar_api.revocations import ReadEveryTime, RevocationFeed
from testkit.fixtures.api_world import token_claims as claims
from testkit.support.kazbill_service import wait_for

LONGPOLL_S = 0.3  # short, so that a feed's thread notices a failure soon


class Counting:
    """The store, with the reads of revocations counted (what a request costs)."""

    def __init__(self, store: Any, copies: int | None = None):
        self.store, self.gets, self.copies = store, 0, copies
        self.rows_listed = 0  # rows of the catch-up's listings
        self.failing = False
        self.unanswered = False  # longpolls the client gives up on, as a hung server leaves them

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        self.gets += 1
        return self.store.get(db, doc_id)

    def get_many(self, db: str, doc_ids: Any) -> dict[str, Any]:
        self.gets += 1
        return self.store.get_many(db, doc_ids)

    def all_docs(self, db: str, query: Any) -> Any:
        result = self.store.all_docs(db, query)
        self.rows_listed += len(result.rows)
        return result

    def changes(self, db: str, since: str = "0", **kwargs: Any) -> Any:
        if self.failing:
            raise StoreUnavailable("test", "the store stopped answering")
        if self.unanswered and kwargs.get("timeout_s"):
            time.sleep(0.02)
            return ChangesPage([], since, expired=True)
        return self.store.changes(db, since, **kwargs)

    def database_info(self, db: str) -> DatabaseInfo:
        info = self.store.database_info(db)
        return DatabaseInfo(info.name, info.doc_count, info.update_seq, self.copies)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def host(tmp_path) -> LogoutMarks:
    """The marks of one host's workers (made as `kazbill api` makes them)."""
    return LogoutMarks.made(tmp_path / "host" / "marks")


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
    worker = feeds(store, host(tmp_path))
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("kept")) is False
    worker.revoke(store, claims("gone"))
    assert worker.is_revoked(counted, claims("gone")) is True
    assert worker.is_revoked(counted, claims("kept")) is False
    assert counted.gets == 0
    assert store.get(SYSTEM_DB, revocation_id(claims("gone")))["pvt_type"] == "kazbill_revoked_token"  # for every host


def test_a_logout_on_another_worker_of_the_host_holds_there_at_once(store, feeds, tmp_path):
    one, other = feeds(store, host(tmp_path)), feeds(store, host(tmp_path))
    other.stop()  # its thread could bring the logout on its own: the mark alone must
    assert other.following()  # (for a few seconds yet)
    one.revoke(store, claims("gone"))
    counted = Counting(store)
    assert other.is_revoked(counted, claims("gone")) is True  # no wait: the mark made it read the feed first
    assert [other.is_revoked(counted, claims("kept")) for _ in range(3)] == [False] * 3
    assert counted.gets == 0


def test_a_logout_on_another_host_holds_once_the_feed_delivers_it(store, feeds, tmp_path):
    here = feeds(store, host(tmp_path))
    elsewhere = ReadEveryTime()  # another host's worker: writes the store, touches no mark of ours
    elsewhere.revoke(store, claims("gone"))
    counted = Counting(store)
    wait_for(lambda: here.is_revoked(counted, claims("gone")), 30, "the feed to deliver the revocation")
    assert counted.gets == 0  # learnt from the feed, not by reading per request


def test_revocations_stored_before_the_worker_started_hold(store, feeds, tmp_path):
    write_revocation(store, claims("old"))
    worker = feeds(store, host(tmp_path))
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("old")) is True and counted.gets == 0


def test_until_the_feed_has_caught_up_every_check_reads_the_store(store, tmp_path):
    worker = RevocationFeed(store, host(tmp_path))  # not started
    write_revocation(store, claims("gone"))
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("gone")) is True
    assert worker.is_revoked(counted, claims("kept")) is False
    assert counted.gets == 2


def test_a_feed_that_fails_is_not_trusted_and_the_checks_read_the_store(store, feeds, tmp_path):
    flaky = Counting(store)
    worker = feeds(flaky, host(tmp_path))
    flaky.failing = True
    wait_for(lambda: not worker.following(), 30, "the feed to notice the failure")
    ReadEveryTime().revoke(store, claims("gone"))  # another host, while this feed cannot read
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("gone")) is True and counted.gets == 1
    flaky.failing = False
    wait_for(worker.following, 30, "the feed to answer again")
    assert worker.is_revoked(Counting(store), claims("gone")) is True


def test_a_feed_that_keeps_failing_says_so_at_warning_with_the_stores_answer(store, tmp_path, caplog):
    """One failure is a blip (debug); a run of them is for the operator, with the reason (a CI run
    once saw a feed never catch up and nothing in the log to say why)."""
    flaky = Counting(store)
    flaky.failing = True
    worker = RevocationFeed(flaky, host(tmp_path), longpoll_s=LONGPOLL_S, retry_pause_s=0.01)
    with caplog.at_level("DEBUG", logger="kazbill.api"):
        worker.start()
        try:
            wait_for(
                lambda: any(record.levelname == "WARNING" for record in caplog.records), 30, "a warning of the failures"
            )
        finally:
            worker.stop()
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert "5 failures in a row" in warnings[0] and "the store stopped answering" in warnings[0]
    paused = [record for record in caplog.records if "paused" in record.getMessage() and record.levelname == "INFO"]
    assert len(paused) == 1  # the first of the run; the rest at debug until the warning
    assert not worker.following()


def test_a_feed_whose_longpolls_go_unanswered_is_not_trusted(store, feeds, tmp_path):
    hung = Counting(store)
    worker = feeds(hung, host(tmp_path), stall_grace_s=0.2)
    hung.unanswered = True  # the server took the longpoll and never answered (the client gave up)
    wait_for(lambda: not worker.following(), 30, "the feed to be found unanswered")
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("kept")) is False and counted.gets == 1


def test_a_store_with_more_than_one_copy_of_the_logouts_is_read_every_time(store, tmp_path):
    worker = RevocationFeed(Counting(store, copies=3), host(tmp_path), longpoll_s=LONGPOLL_S).start()
    try:
        wait_for(lambda: worker._since is not None, 30, "the feed to catch up")
        counted = Counting(store)
        assert not worker.following()
        assert worker.is_revoked(counted, claims("kept")) is False and counted.gets == 1
    finally:
        worker.stop()


def test_revocations_long_expired_are_forgotten(store, feeds, tmp_path):
    now = 1_900_000_000
    stale, fresh = claims("stale", expires=now - 2 * 86_400), claims("fresh", expires=now + 3_600)
    write_revocation(store, stale)  # refused by its signature anyway
    write_revocation(store, fresh)
    worker = feeds(store, host(tmp_path), wall=lambda: now)
    counted = Counting(store)
    assert worker.is_revoked(counted, fresh) is True
    assert worker.is_revoked(counted, stale) is False and counted.gets == 0


def test_a_revocation_is_forgotten_a_day_after_its_token_expired(store, feeds, tmp_path):
    now = [1_900_000_000.0]
    worker = feeds(store, host(tmp_path), wall=lambda: now[0])
    gone = claims("gone", expires=int(now[0]) + 3_600)
    worker.revoke(store, gone)
    counted = Counting(store)
    assert worker.is_revoked(counted, gone) is True
    now[0] += 3_600 + 86_400 + 1  # its signature check refuses it from now + 3,600 s on
    wait_for(lambda: not worker.is_revoked(counted, gone), 30, "the revocation to be forgotten")
    assert counted.gets == 0  # forgotten by the feed, not found missing in the store


def test_a_clock_set_back_right_after_a_catch_up_reads_what_the_catch_up_left_unread(store, tmp_path):
    """The catch-up reads the revocations of tokens expired less than a day ago; a clock set back
    two days before the feed's next look makes older ones live again, so they are read then."""
    moment = 1_900_000_000.0
    older = claims("older", expires=int(moment) - 36 * 3_600)  # unread at `moment`, alive two days before
    write_revocation(store, older)
    readings = iter([moment])
    worker = RevocationFeed(
        store, host(tmp_path), longpoll_s=LONGPOLL_S, wall=lambda: next(readings, moment - 2 * 86_400)
    ).start()
    try:
        wait_for(worker.following, 30, "the feed to catch up")
        assert worker.is_revoked(Counting(store), older) is True
    finally:
        worker.stop()


def test_catching_up_reads_the_revocations_of_live_tokens_not_every_logout_there_was(store, feeds, tmp_path):
    now = 1_900_000_000
    for n in range(40):  # a year of logouts, say: their tokens expired long ago
        write_revocation(store, claims(f"old{n}", expires=now - 86_400 * (2 + n)))
    write_revocation(store, claims("live", expires=now + 3_600))
    write_revocation(store, claims("lately", expires=now - 3_600))  # kept a day past its expiry
    listed = Counting(store)
    worker = feeds(listed, host(tmp_path), wall=lambda: now)
    assert listed.rows_listed == 2
    assert worker.is_revoked(Counting(store), claims("live")) and worker.is_revoked(Counting(store), claims("lately"))


def test_a_logout_written_before_the_ids_sorted_by_expiry_still_holds(store, feeds, tmp_path):
    """Revocations written until 6 December 2026 have one id per token (`revoked_token:<id>`)."""
    legacy = {"pvt_type": "kazbill_revoked_token", "expires": 2_000_000_000}
    store.put(SYSTEM_DB, {"_id": LEGACY_PREFIX + "before", **legacy})
    assert ReadEveryTime().is_revoked(store, claims("before")) is True
    assert ReadEveryTime().is_revoked(store, claims("other")) is False
    worker = feeds(store, host(tmp_path))
    store.put(SYSTEM_DB, {"_id": LEGACY_PREFIX + "during", **legacy})  # an old worker still running
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("before")) is True and counted.gets == 0
    wait_for(lambda: worker.is_revoked(counted, claims("during")), 30, "the feed to deliver the old-style revocation")
    assert counted.gets == 0


def test_without_usable_marks_every_check_reads_the_store(store, feeds, tmp_path):
    worker = feeds(store, LogoutMarks(None))
    counted = Counting(store)
    assert worker.is_revoked(counted, claims("kept")) is False and counted.gets == 1


def test_a_mark_that_cannot_be_written_withdraws_the_marks(store, feeds, tmp_path, monkeypatch):
    marks = host(tmp_path).path
    assert marks is not None
    one, other = feeds(store, host(tmp_path)), feeds(store, host(tmp_path))
    append = LogoutMarks._append
    monkeypatch.setattr(LogoutMarks, "_append", lambda self, data: False if data else append(self, data))  # disk full
    other.stop()  # its thread could bring the logout on its own
    one.revoke(store, claims("gone"))  # stored; the mark could not be written, so the file went
    # The other worker finds the file gone, makes it again and reads past it: the logout holds.
    assert other.is_revoked(Counting(store), claims("gone")) is True
    assert marks.exists()


def test_a_marks_file_removed_by_a_cleaner_is_made_again_and_read_past(store, feeds, tmp_path):
    marks = host(tmp_path)
    assert marks.path is not None
    one, other = feeds(store, host(tmp_path)), feeds(store, host(tmp_path))
    other.stop()
    one.revoke(store, claims("gone"))
    marks.path.unlink()  # before the other worker looked
    counted = Counting(store)
    assert other.is_revoked(counted, claims("gone")) is True and counted.gets == 0


def test_a_clock_set_back_brings_forgotten_revocations_back(store, tmp_path):
    now = [1_900_000_000.0]
    old = claims("old", expires=int(now[0]) - 2 * 86_400)
    write_revocation(store, old)
    worker = RevocationFeed(store, host(tmp_path), longpoll_s=LONGPOLL_S, wall=lambda: now[0]).start()
    try:
        wait_for(worker.following, 30, "the feed to catch up")
        assert worker.is_revoked(Counting(store), old) is False  # forgotten: its signature refuses it
        now[0] -= 3 * 86_400  # a demo's clock file replayed: the token's signature would pass again
        wait_for(lambda: worker.is_revoked(Counting(store), old), 30, "the revocation to be read again")
    finally:
        worker.stop()


def test_the_marks_live_in_a_directory_only_this_user_may_write(tmp_path, monkeypatch):
    monkeypatch.setattr(logout_marks.tempfile, "gettempdir", lambda: str(tmp_path))
    marks = LogoutMarks.for_store("http://couch:5984")
    assert marks.path is not None and marks.path.parent.stat().st_mode & 0o777 == 0o700
    first = marks.now()
    assert first is not None  # made when the worker starts: a missing file means trouble
    assert marks.touch()
    assert marks.now() != first
    assert LogoutMarks.for_store("http://other:5984").path != marks.path  # one file per store


def test_a_directory_others_may_write_is_not_trusted(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(logout_marks.tempfile, "gettempdir", lambda: str(tmp_path))
    shared = tmp_path / f"kazbill-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    marks = LogoutMarks.for_store("http://couch:5984")
    assert "only through the store's feed" in caplog.text
    assert marks.touch() is False and marks.now() is None


def test_a_fifo_in_the_files_place_does_not_hang_a_logout(tmp_path):
    folder = tmp_path / "kazbill"
    folder.mkdir(mode=0o700)
    os.mkfifo(folder / "marks")
    marks = LogoutMarks(folder / "marks")
    assert marks.touch() is False  # answered at once; the FIFO is withdrawn
    assert marks.now() is not None and (folder / "marks").is_file()  # made again as a file, read past
