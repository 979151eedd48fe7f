"""What only the CouchDB adapter does: longpoll timeouts, the _db_updates fallback, errors about
the server itself, credentials in the URL; on the suite's server (a real CouchDB when one is
available), the fallback on pouchdb-server, which has no `_db_updates`. The behaviour both
adapters share is in the contract suite."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DbUpdate, StoreUnavailable
from testkit.support.couchdb_http import http
from testkit.support.pouchdb_server import PouchDbServer
from tests.integration.conftest import CleaningStore

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Server:
    base: str  # without credentials
    auth: tuple[str, str] | None  # the admin's, when the URL carried them (a real CouchDB's)
    vendor: str

    @property
    def url(self) -> str:
        return self.base.replace("http://", f"http://{self.auth[0]}:{quote(self.auth[1])}@") if self.auth else self.base


def server_at(url: str) -> Server:
    parts = urlsplit(url)
    base = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    _, welcome = http("GET", f"{base}/", auth)
    return Server(base, auth, next(k for k, v in welcome.items() if str(v).startswith("Welcome")))


@pytest.fixture(scope="module")
def server(couch_url):
    """The suite's server: a real CouchDB when one is available (tests/conftest.py), else pouchdb."""
    return server_at(couch_url)


@pytest.fixture(scope="module")
def without_db_updates(server):
    """A server without `_db_updates`, where the adapter compares listings: pouchdb-server."""
    if server.vendor == "express-pouchdb":
        yield server
        return
    with PouchDbServer() as running:
        yield server_at(running.url)


@pytest.fixture
def fallback_store(without_db_updates):
    store = CleaningStore(CouchDbStore(without_db_updates.url, timeout_s=10))
    yield store
    store.cleanup()


@pytest.fixture
def store(server):
    store = CleaningStore(CouchDbStore(server.url, timeout_s=10))  # the session's server is shared
    yield store
    store.cleanup()


def fresh_name(prefix: str = "kazbill_test_") -> str:
    return prefix + uuid.uuid4().hex[:12]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_longpoll_timeout_returns_an_empty_page_and_keeps_the_sequence(store):
    db = fresh_name()
    store.create_database(db)
    store.put(db, {"_id": "first"})
    head = store.changes(db).last_seq

    started = time.monotonic()
    page = store.changes(db, since=head, timeout_s=0.5)

    assert page.changes == []
    assert page.last_seq == head
    assert time.monotonic() - started >= 0.5  # it waited its time out (a slow machine only waits longer)


def test_longpoll_returns_as_soon_as_something_changes(store):
    db = fresh_name()
    store.create_database(db)
    head = store.changes(db).last_seq
    threading.Timer(0.3, lambda: store.put(db, {"_id": "late"})).start()

    # Longer than the test may run (setup.cfg's --timeout=600): a poll that waited its time out
    # instead of answering the change fails by the suite's timeout, not by a timed assertion.
    page = store.changes(db, since=head, timeout_s=900)

    assert [change.id for change in page.changes] == ["late"]


def test_db_updates_fallback_reports_created_updated_and_deleted(fallback_store):
    store = fallback_store
    kept, dropped = fresh_name(), account_db(uuid.uuid4().hex)
    store.create_database(kept)
    store.create_database(dropped)

    first = store.db_updates("0")
    assert {DbUpdate(kept, "created"), DbUpdate(dropped, "created")} <= set(first.updates)
    assert {update.kind for update in first.updates} == {"created"}

    added = fresh_name()
    store.create_database(added)
    store.put(kept, {"_id": "doc"})
    store.delete_database(dropped)
    second = store.db_updates(first.last_seq)
    assert set(second.updates) == {DbUpdate(added, "created"), DbUpdate(kept, "updated"), DbUpdate(dropped, "deleted")}

    started = time.monotonic()
    quiet = store.db_updates(second.last_seq, timeout_s=0.5)
    assert quiet.updates == [] and quiet.last_seq == second.last_seq
    assert time.monotonic() - started >= 0.5

    threading.Timer(0.3, lambda: store.put(added, {"_id": "doc"})).start()
    woken = store.db_updates(second.last_seq, timeout_s=10)
    assert woken.updates == [DbUpdate(added, "updated")]


def test_account_databases_are_listed_with_their_slashes(store):
    # pouchdb-server lists "account/aa/bb/rest" as "accountaabbrest".
    db = account_db(uuid.uuid4().hex) + "-202401"
    store.create_database(db)
    assert db in store.list_databases()
    assert store.database_info(db).name == db


def test_a_closed_port_is_unavailable_and_the_error_names_the_url():
    url = f"http://127.0.0.1:{closed_port()}"
    store = CouchDbStore(url, timeout_s=2)
    with pytest.raises(StoreUnavailable) as raised:
        store.list_databases()
    assert url in str(raised.value)
    assert "connection refused" in str(raised.value)
    assert "Traceback" not in str(raised.value)


def test_the_password_in_the_url_is_masked_everywhere(server):
    user = f"kazbill-{uuid.uuid4().hex[:8]}"  # the session's server may be one that outlives the session
    status, _ = http(
        "PUT",
        f"{server.base}/_users/org.couchdb.user:{user}",
        server.auth,
        {"name": user, "password": "s3cret pw", "roles": [], "type": "user"},
    )
    assert status in (201, 202)
    with_credentials = server.base.replace("http://", f"http://{user}:s3cret%20pw@")

    info = CouchDbStore(with_credentials).server_info()
    assert info.location == server.base.replace("http://", f"http://{user}:****@")
    assert info.vendor == server.vendor

    refused = CouchDbStore(with_credentials.replace("s3cret%20pw", "wrong"))
    with pytest.raises(StoreUnavailable) as raised:
        refused.server_info()
    assert f"{user}:****@" in str(raised.value) and "wrong" not in str(raised.value)

    unreachable = f"http://kazbill:s3cret@127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnavailable) as raised:
        CouchDbStore(unreachable, timeout_s=2).server_info()
    assert "s3cret" not in str(raised.value) and "kazbill:****@127.0.0.1" in str(raised.value)
