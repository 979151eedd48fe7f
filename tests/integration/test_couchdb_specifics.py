"""What only the CouchDB adapter does: longpoll timeouts, the _db_updates fallback, errors about
the server itself, credentials in the URL. The behaviour both adapters share is in the contract
suite."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
import uuid

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DbUpdate, StoreUnavailable
from tests.support.pouchdb_server import PouchDbServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    with PouchDbServer() as running:
        yield running


@pytest.fixture
def store(server):
    store = CouchDbStore(server.url, timeout_s=10)
    yield store
    store.close()


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
    assert 0.5 <= time.monotonic() - started < 5


def test_longpoll_returns_as_soon_as_something_changes(store):
    db = fresh_name()
    store.create_database(db)
    head = store.changes(db).last_seq
    threading.Timer(0.3, lambda: store.put(db, {"_id": "late"})).start()

    started = time.monotonic()
    page = store.changes(db, since=head, timeout_s=10)

    assert [change.id for change in page.changes] == ["late"]
    assert time.monotonic() - started < 5


def test_db_updates_fallback_reports_created_updated_and_deleted(store):
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
    assert set(second.updates) == {
        DbUpdate(added, "created"), DbUpdate(kept, "updated"), DbUpdate(dropped, "deleted")
    }

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
    request = urllib.request.Request(
        f"{server.url}/_users/org.couchdb.user:kazbill",
        method="PUT",
        data=json.dumps({"name": "kazbill", "password": "s3cret pw", "roles": [], "type": "user"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    with_credentials = server.url.replace("http://", "http://kazbill:s3cret%20pw@")

    info = CouchDbStore(with_credentials).server_info()
    assert info.location == server.url.replace("http://", "http://kazbill:****@")
    assert info.vendor == "express-pouchdb"

    refused = CouchDbStore(with_credentials.replace("s3cret%20pw", "wrong"))
    with pytest.raises(StoreUnavailable) as raised:
        refused.server_info()
    assert "kazbill:****@" in str(raised.value) and "wrong" not in str(raised.value)

    unreachable = f"http://kazbill:s3cret@127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnavailable) as raised:
        CouchDbStore(unreachable, timeout_s=2).server_info()
    assert "s3cret" not in str(raised.value) and "kazbill:****@127.0.0.1" in str(raised.value)
