"""The API as an operator runs it: `kazbill api` (gunicorn, two workers) against the real
CouchDB-compatible server, spoken to over HTTP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from bookkeeper.adapters.couchdb_store import CouchDbStore
from crossbar_api.envelope import dumps
from tests.fixtures.api_world import ApiWorld, md5

pytestmark = pytest.mark.integration
KAZBILL = str(Path(sys.executable).with_name("kazbill"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, method: str, path: str, data=None, token: str | None = None, headers=None):
    request = urllib.request.Request(base + path, method=method, data=None if data is None else dumps(
        {"data": data}).encode(), headers={"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {}),
                                           **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read(), parse_float=Decimal)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read(), parse_float=Decimal)


@pytest.fixture
def served(couch_url, tmp_path):
    store = CouchDbStore(couch_url)
    world = ApiWorld(store).build()
    port = free_port()
    env = {**os.environ, "KAZBILL_STORE_URL": couch_url, "KAZBILL_API_WORKERS": "2"}
    env.pop("KAZBILL_API_TOKEN_SECRET", None)  # the workers must agree on the secret kept in the store
    log = open(tmp_path / "gunicorn.log", "w")
    process = subprocess.Popen([KAZBILL, "api", "--bind", f"127.0.0.1:{port}"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(base, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base, world
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        store.close()


def test_a_reseller_logs_in_credits_a_customer_once_and_sees_the_balance(served):
    base, world = served
    status, login = call(base, "PUT", "/v2/user_auth", {"credentials": md5("boss:secret"), "account_name": "Reseller"})
    assert status == 201, login
    token = login["auth_token"]
    customer = world.ids["customer"]
    posted = [call(base, "PUT", f"/v2/accounts/{customer}/ledgers/credit", {"amount": Decimal("250.75")}, token,
                   {"Idempotency-Key": "bank-ref-1"}) for _ in range(4)]  # spread over both workers
    assert [status for status, _ in posted] == [201, 200, 200, 200]
    assert len({body["data"]["id"] for _, body in posted}) == 1
    status, total = call(base, "GET", f"/v2/accounts/{customer}/ledgers/total", token=token)
    assert (status, total["data"]["amount"]) == (200, Decimal("250.75"))
    status, page = call(base, "GET", f"/v2/accounts/{customer}/transactions", token=token)
    assert [(t["type"], t["amount"], t["reason"]) for t in page["data"]] == [("credit", Decimal("250.75"), "wire_transfer")]
    status, refused = call(base, "GET", f"/v2/accounts/{world.ids['other_customer']}/ledgers/total", token=token)
    assert (status, refused["error"]) == (403, "403")
