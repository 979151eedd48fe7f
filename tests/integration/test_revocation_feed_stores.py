"""The logout feed (crossbar_api.revocations) on each store `kazbill api` runs on, real CouchDB
3 included: its position taken with `since=now`, the revocations already stored read by id
range, the longpoll, and a host's other worker reading past a logout mark. The logic is in the
unit tests (tests/unit/crossbar_api/test_revocation_feed.py); here, the stores' answers."""

from __future__ import annotations

import time
import uuid

import pytest

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from crossbar_api.logout_marks import LogoutMarks
from crossbar_api.revocation_records import LEGACY_PREFIX, RevocationSweep, write_revocation
from crossbar_api.revocations import ReadEveryTime, RevocationFeed
from testkit.fixtures.api_world import token_claims as claims
from testkit.support.kazbill_service import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.couchdb_cluster]  # also on a cluster, when one is available


class ReadsCounted:
    def __init__(self, store):
        self.store, self.gets = store, 0

    def get(self, db, doc_id):
        self.gets += 1
        return self.store.get(db, doc_id)

    def get_many(self, db, doc_ids):
        self.gets += 1
        return self.store.get_many(db, doc_ids)


def test_logouts_reach_every_worker_without_a_read_a_request(store, tmp_path):
    store.ensure_database(SYSTEM_DB)
    old, here, there, elsewhere, legacy = (f"test-{uuid.uuid4().hex}" for _ in range(5))
    write_revocation(store, claims(old))
    long_ago = claims(f"test-{uuid.uuid4().hex}", expires=int(time.time()) - 3 * 86_400)
    write_revocation(store, long_ago)  # below the catch-up's range: its signature refuses it anyway
    store.put(SYSTEM_DB, {"_id": LEGACY_PREFIX + legacy, "pvt_type": "kazbill_revoked_token", "expires": 2_000_000_000})
    assert ReadEveryTime().is_revoked(store, claims(old)) and not ReadEveryTime().is_revoked(store, claims(there))
    marks = LogoutMarks.made(tmp_path / "host" / "marks")
    one = RevocationFeed(store, marks, longpoll_s=1.0).start()
    other = RevocationFeed(store, LogoutMarks(marks.path), longpoll_s=1.0).start()
    try:
        wait_for(lambda: one.following() and other.following(), 60, "both feeds to catch up")
        counted = ReadsCounted(store)
        assert one.is_revoked(counted, claims(old)) and other.is_revoked(counted, claims(old))
        assert one.is_revoked(counted, claims(legacy)) and not one.is_revoked(counted, long_ago)
        ReadEveryTime().revoke(store, claims(elsewhere))  # another host: no mark of this one's
        wait_for(lambda: other.is_revoked(counted, claims(elsewhere)), 60, "the feed to bring the other host's logout")
        other.stop()  # its thread could bring the next logout on its own: the mark alone must
        one.revoke(store, claims(here))
        assert one.is_revoked(counted, claims(here)) and other.is_revoked(
            counted, claims(here)
        )  # the host's other worker
        assert not other.is_revoked(counted, claims(there))
        assert counted.gets == 0
    finally:
        one.stop()
        other.stop()


def test_old_logouts_are_swept_on_each_store(store):
    """The range read by id and the deletions, on the store's own answers (a cluster's too)."""
    store.ensure_database(SYSTEM_DB)
    now = int(time.time())
    old, alive, legacy = (f"test-{uuid.uuid4().hex}" for _ in range(3))
    write_revocation(store, claims(old, expires=now - 30 * 86_400))
    write_revocation(store, claims(alive, expires=now + 3_600))
    store.put(
        SYSTEM_DB, {"_id": LEGACY_PREFIX + legacy, "pvt_type": "kazbill_revoked_token", "expires": now - 30 * 86_400}
    )
    assert RevocationSweep().after_logout(store) >= 2  # (other tests' old records may go too)
    assert not ReadEveryTime().is_revoked(store, claims(old, expires=now - 30 * 86_400))
    assert not ReadEveryTime().is_revoked(store, claims(legacy))
    assert ReadEveryTime().is_revoked(store, claims(alive, expires=now + 3_600))
