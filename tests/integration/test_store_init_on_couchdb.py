"""`kazbill store init` and `store check` as an operator runs them, against the real
CouchDB-compatible server, through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db, account_modb
from testkit.fixtures.kazoo_docs import new_account_id

pytestmark = pytest.mark.integration
KAZBILL = str(Path(sys.executable).with_name("kazbill"))


def kazbill(couch_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAZBILL_STORE_URL": couch_url}
    return subprocess.run([KAZBILL, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(autouse=True)
def leaves_the_server_as_it_was(couch_url):
    """`store init` makes Kazbill's own databases on the shared test server: they are deleted
    afterwards, or later tests would find other tests' failures and summaries in them (the
    tests' stores delete only the databases they made themselves)."""
    store = CouchDbStore(couch_url)
    before = set(store.list_databases())
    yield
    for db in set(store.list_databases()) - before:
        store.delete_database(db)
    store.close()


def test_store_init_installs_the_views_and_a_second_run_changes_nothing(couch_url):
    store = CouchDbStore(couch_url)
    account_id = new_account_id()
    account, modb = account_db(account_id), account_modb(account_id, 2026, 11)
    store.create_database(account)
    store.create_database(modb)
    try:
        first = kazbill(couch_url, "store", "init", "--json")
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        mine = {(d["db"], d["design_id"]): d["state"] for d in report["design_docs"]}
        assert mine[(account, "_design/kazbill_quantities")] == "installed"
        assert mine[(modb, "_design/kazbill_ledgers")] == "installed"
        assert store.get(account, "_design/kazbill_quantities")["kazbill"]["db_class"] == "account"

        revisions = {db: store.get(db, design_id)["_rev"] for (db, design_id) in mine}
        second = json.loads(kazbill(couch_url, "store", "init", "--json").stdout)
        assert second["created_databases"] == []
        assert {d["state"] for d in second["design_docs"]} == {"unchanged"}
        assert {db: store.get(db, design_id)["_rev"] for (db, design_id) in mine} == revisions

        check = kazbill(couch_url, "store", "check")
        assert check.returncode == 0 and "store is ready" in check.stdout
    finally:
        for db in (account, modb):
            store.delete_database(db)
        store.close()


def test_store_init_upgrades_a_design_document_that_changed(couch_url):
    store = CouchDbStore(couch_url)
    kazbill(couch_url, "store", "init")
    try:
        installed = store.get("kazbill_failures", "_design/kazbill_failures")
        stale = {**installed, "kazbill": {**installed["kazbill"], "digest": "from-an-older-kazbill"}}
        store.put("kazbill_failures", stale)
        check = kazbill(couch_url, "store", "check")
        assert check.returncode == 1 and "outdated: _design/kazbill_failures in kazbill_failures" in check.stdout
        upgrade = json.loads(kazbill(couch_url, "store", "init", "--json").stdout)
        assert {"db": "kazbill_failures", "design_id": "_design/kazbill_failures", "state": "upgraded"} in upgrade[
            "design_docs"
        ]
        design = next(d for d in load_design_docs() if d.design_id == "_design/kazbill_failures")
        assert store.get("kazbill_failures", "_design/kazbill_failures")["kazbill"]["digest"] == design.digest
    finally:
        store.close()
