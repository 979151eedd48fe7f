"""Replacing a rate deck is all or nothing (issue 20.4). An import killed half way (SIGKILL, as
gunicorn's worker timeout kills) leaves the old deck active and whole, and calls are rated from
it alone; the next import replaces it whole and clears what the killed one left. A large upload
to the API is a job the service runs, with its progress readable; a job that fails, or whose
worker died, leaves the old deck standing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from datetime import datetime
from decimal import Decimal

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, account_modb, ratedeck_db, to_gregorian_seconds
from bookkeeper.domain.rate_deck_versions import version_db
from bookkeeper.ports import NotFound, ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.rating import rate_deck_jobs
from bookkeeper.services.rating.call_rating import bill_call, deck_of
from bookkeeper.services.rating.rate_decks import import_rate_deck, read_pointer
from crossbar_api.resources import rate_decks as deck_resource
from testkit.fixtures.api_world import MSK, ApiWorld
from tests.integration.conftest import ADAPTERS, CleaningStore, open_store
from tests.unit.crossbar_api.test_api import token

OLD = ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60", "7,2.00,60,60", "44,3.00,60,60"]


def new_deck(rows: int) -> list[str]:
    """The replacement: Moscow at another price, and many prefixes the old deck does not have."""
    return ["prefix,rate_cost,rate_increment,rate_minimum", "7495,0.01,60,60"] + [
        f"{1000000 + n},0.50,60,60" for n in range(rows - 1)
    ]


def _import_then_hang(adapter: str, couch_url: str, tmp_path, reseller: str, told) -> None:
    """The child: writes two batches of the new deck, says so, and waits to be killed."""
    store = open_store(adapter, couch_url, tmp_path)
    batches = []

    def progress(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 2:
            told.send("half way")
            threading.Event().wait()  # never returns: the parent kills this process here

    import_rate_deck(store, reseller, "retail", new_deck(10_000), progress=progress)


@pytest.fixture(params=ADAPTERS)
def deck_world(request, tmp_path):
    couch_url = request.getfixturevalue("couch_url") if request.param == "couchdb" else ""
    store = CleaningStore(open_store(request.param, couch_url, tmp_path))
    world = ApiWorld(store).build()
    reseller = world.ids["reseller"]
    onbill = store.get(account_db(reseller), "onbill")
    store.put(account_db(reseller), {**onbill, "default_rate_deck": "retail"})
    assert import_rate_deck(store, reseller, "retail", OLD).report.ok
    try:
        yield store, world, (request.param, couch_url, tmp_path)
    finally:
        deck_db = ratedeck_db(reseller, "retail")
        for db in [version_db(deck_db, version) for version in read_pointer(store, deck_db).versions] + [deck_db]:
            if store.database_exists(db):
                store.delete_database(db)
        store.cleanup()


def charged_rate(store, world, call_id: str) -> Decimal:
    """The per-minute rate (in units) the call's debit was charged at."""
    customer = world.ids["customer_two"]
    ended = datetime(2026, 11, 10, 15, 30, tzinfo=MSK)
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 10, 15, 31, tzinfo=MSK)), world.world.design_docs)
    bill_call(
        ports,
        FinishedCall(
            customer, call_id, 60, "74951234567", "outbound", True, to_gregorian_seconds(int(ended.timestamp()))
        ),
    )
    entry = store.get(account_modb(customer, 2026, 11), f"202611-kazbill-call-{call_id}")
    return Decimal(entry["metadata"]["kazbill"]["rate"]["per_minute_units"])


def test_a_deck_import_killed_half_way_leaves_the_old_deck_whole_and_calls_rated_from_it(deck_world):
    store, world, (adapter, couch_url, tmp_path) = deck_world
    reseller = world.ids["reseller"]
    deck_db = ratedeck_db(reseller, "retail")
    before = read_pointer(store, deck_db)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_import_then_hang, args=(adapter, couch_url, tmp_path, reseller, send))
    child.start()
    try:
        assert receive.poll(300) and receive.recv() == "half way"  # a guard against a hang, not a timing
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join()
    killed = read_pointer(store, deck_db)
    assert killed.active_version == before.active_version and killed.importing not in (None, before.active_version)
    half = store.all_docs(f"{deck_db}/version-{killed.importing}", ViewQuery(limit=1)).rows
    assert half, "the killed import had written rates aside"
    deck = deck_of(store, reseller, "retail")
    assert len(deck) == 3 and deck.find("10000042") is None  # the old deck, whole, and none of the new
    assert charged_rate(store, world, "killed-1") == 12_000  # 1.20 a minute: the old rate
    assert import_rate_deck(store, reseller, "retail", new_deck(3_000)).report.ok
    assert len(deck_of(store, reseller, "retail")) == 3_000
    assert charged_rate(store, world, "after-1") == 100  # then wholly the new deck
    after = read_pointer(store, deck_db)
    assert after.versions == (after.active_version,)  # the killed import's rates are gone
    assert not store.database_exists(version_db(deck_db, killed.importing))


def test_a_large_upload_is_a_job_whose_failure_or_dead_worker_leaves_the_old_deck(api, monkeypatch):
    client, world, clock = api

    def now() -> int:
        return to_gregorian_seconds(int(clock.now().timestamp()))

    monkeypatch.setattr(deck_resource, "INLINE_ROWS", 100)
    store, reseller = world.store, world.ids["reseller"]
    headers = {"X-Auth-Token": token(client, world, "reseller"), "Content-Type": "text/csv"}
    url = f"/v2/accounts/{reseller}/rate_decks/retail"
    assert client.simulate_put(url, headers=headers, body="\n".join(OLD)).status_code == 200
    bad = client.simulate_put(url, headers=headers, body="\n".join(new_deck(500) + ["12x,1,60,60"]))
    assert bad.status_code == 202 and bad.headers["location"].endswith(bad.json["data"]["job_id"])
    progress = client.simulate_get(f"{url}/imports/{bad.json['data']['job_id']}", headers=headers).json["data"]
    assert (progress["state"], progress["rows"], progress["written"]) == ("queued", 501, 0)
    assert rate_deck_jobs.run_due_import(store, now) == bad.json["data"]["job_id"]
    failed = client.simulate_get(f"{url}/imports/{bad.json['data']['job_id']}", headers=headers).json["data"]
    assert failed["state"] == "failed" and failed["errors"][0]["line"] == 502 and "old deck stands" in failed["reason"]
    assert len(deck_of(store, reseller, "retail")) == 3

    good = client.simulate_put(url, headers=headers, body="\n".join(new_deck(5_000))).json["data"]["job_id"]
    job = store.get(rate_deck_jobs.JOBS_DB, good)  # a worker claimed it, then died without a word
    store.put(rate_deck_jobs.JOBS_DB, {**job, "state": "running", "attempts": 1, "beat_at": now()})
    assert rate_deck_jobs.run_due_import(store, now) is None  # its claim still holds
    assert len(deck_of(store, reseller, "retail")) == 3
    clock.set(datetime(2026, 11, 10, 12, 10, tzinfo=MSK))  # ten minutes without a beat: it is run again
    assert rate_deck_jobs.run_due_import(store, now) == good
    done = client.simulate_get(f"{url}/imports/{good}", headers=headers).json["data"]
    assert (done["state"], done["written"], done["removed"], done["attempts"]) == ("done", 5_000, 2, 2)
    assert len(deck_of(store, reseller, "retail")) == 5_000
    with pytest.raises(NotFound):  # the file is not kept once imported
        store.get_attachment(rate_deck_jobs.JOBS_DB, good, rate_deck_jobs.FILE)
    other = {"X-Auth-Token": token(client, world, "other_reseller")}
    assert client.simulate_get(f"{url}/imports/{good}", headers=other).status_code == 403
    assert (
        client.simulate_get(
            f"/v2/accounts/{world.ids['other_reseller']}/rate_decks/retail/imports/{good}", headers=other
        ).status_code
        == 404
    )
