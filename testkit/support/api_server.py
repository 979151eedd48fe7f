"""`kazbill api` as an operator runs it (gunicorn, several workers), on a free port, for the
tests and the API benchmark that speak to it over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from actors.process_group import live_members
from crossbar_api.envelope import dumps
from testkit.fixtures.api_world import md5
from testkit.support.kazbill_service import free_port

KAZBILL = str(Path(sys.executable).with_name("kazbill"))
START_TIMEOUT_S = 60.0
# The caller's store and secret must not leak in: the server uses the store it is given, and its
# workers agree on the token secret kept in that store.
NOT_INHERITED = ("KAZBILL_STORE_URL", "KAZBILL_STORE_PATH", "KAZBILL_CONFIG", "KAZBILL_API_TOKEN_SECRET")


def call(base: str, method: str, path: str, data=None, token: str | None = None, headers=None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if data is None else dumps({"data": data}).encode(),
        headers={"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {}), **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read(), parse_float=Decimal)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read(), parse_float=Decimal)


def sign_in(base: str, credentials: str = "boss:secret", account_name: str = "Reseller") -> str:
    """A token from `PUT /v2/user_auth` with Kazoo's md5 of "user:password"; fails unless 201."""
    status, body = call(base, "PUT", "/v2/user_auth", {"credentials": md5(credentials), "account_name": account_name})
    assert status == 201, body
    return body["auth_token"]


def couch(url: str) -> dict[str, str]:
    return {"KAZBILL_STORE_URL": url}


@contextmanager
def serving_api(
    store_env: Mapping[str, str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    workers: int = 2,
    clock_file: str | None = None,
) -> Iterator[str]:
    """The base URL of `kazbill api` on the given store, until the block ends; stopped by process
    group (gunicorn master and its workers) however the block is left. `clock_file`: the
    simulated clock a service beside it runs on (else the API dates what it posts in real time)."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    environment.update(store_env, KAZBILL_API_WORKERS=str(workers), KAZBILL_API_THREAD_DUMPS="1", **(env or {}))
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        clock = ["--clock-file", clock_file] if clock_file else []
        process = subprocess.Popen(
            [KAZBILL, "api", "--bind", f"127.0.0.1:{port}", *clock],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    if call(base, "GET", "/health")[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.2)
            yield base
        finally:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)  # start_new_session: the group id is the master's pid
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    continue


def dump_worker_threads(log_path: Path) -> str:
    """Every thread's stack of each worker of the `kazbill api` writing to `log_path` (SIGUSR2,
    entrypoints/web.py), then the log's end: what a test that timed out on a worker shows. The
    workers are the master's process group (serving_api starts it as a session) but the master,
    whose pid gunicorn logs as it starts listening."""
    found = re.search(r"Listening at: \S+ \((\d+)\)", log_path.read_text(errors="replace"))
    master = int(found.group(1)) if found else None
    workers = [pid for pid in live_members(master) if pid != master] if master is not None else []
    for pid in workers:  # one after the other: their dumps share the file
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGUSR2)
        time.sleep(0.5)
    return log_path.read_text(errors="replace")[-12000:]
