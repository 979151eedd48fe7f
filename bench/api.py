"""API benchmark: `kazbill api` (gunicorn, two workers) under an open-loop load, for both stores,
against a bare Falcon endpoint on the same gunicorn as the reference.
Requests are sent on a fixed schedule whether or not earlier ones have answered, and latency is
measured from the scheduled send time, so queueing in front of a saturated server shows up in the
percentiles (no coordinated omission). Prints figures; asserts nothing about time.

    .venv/bin/python -m bench.api [--seconds 10] [--rates 100,300,600] [--connections 8] [--couch URL]

Without --couch the CouchDB side is a pouchdb-server started for the run. With it, the store
requests each API request costs are printed beside the latencies.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench.record import RequestMeter, record, store_key, store_name
from bench.store import percentile
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.config import Settings
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import DocumentStore
from testkit.fixtures.api_world import ApiWorld, md5
from testkit.support.api_server import serving_api
from testkit.support.kazbill_service import free_port, wait_for
from testkit.support.pouchdb_server import PouchDbServer

CREDITS = 200  # ledger entries on the customer: four pages of 50 for GET transactions
REQUEST_TIMEOUT_S = 10.0
# Requests still unsent this long after the run's scheduled end are counted as errors instead of
# sent, so an overloaded server cannot stretch a run without bound.
DRAIN_S = 10.0


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    token: str = "",
    data: dict | None = None,
    headers: dict | None = None,
) -> tuple[int, bytes]:
    body = None if data is None else json.dumps({"data": data})
    conn.request(
        method,
        path,
        body=body,
        headers={"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {}), **(headers or {})},
    )
    response = conn.getresponse()
    return response.status, response.read()  # read it all, or the keep-alive connection is unusable


@contextmanager
def serving(env_store: dict[str, str], log_path: Path) -> Iterator[int]:
    """The port of `kazbill api` on the given store (testkit.support.api_server starts and stops it)."""
    with serving_api(env_store, log_path) as base:
        yield int(base.rsplit(":", 1)[1])


def prepare(port: int, customer: str, reseller_name: str) -> str:
    """Log in as the reseller and post the credits GET transactions will page through."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body = request(
        conn, "PUT", "/v2/user_auth", data={"credentials": md5("boss:secret"), "account_name": reseller_name}
    )
    if status != 201:
        raise RuntimeError(f"login failed: {status} {body[:300]!r}")
    token = json.loads(body)["auth_token"]
    started = time.perf_counter()
    for n in range(CREDITS):
        status, body = request(
            conn,
            "PUT",
            f"/v2/accounts/{customer}/ledgers/credit",
            token,
            {"amount": 10 + n % 90, "description": f"bench credit {n}"},
            {"Idempotency-Key": f"bench-{n}"},
        )  # distinct keys: each posts a new entry
        if status not in (200, 201):
            raise RuntimeError(f"credit {n} failed: {status} {body[:300]!r}")
    print(f"  seeded {CREDITS} credits in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    conn.close()
    return token


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()  # read it all, or the keep-alive connection is unusable
    return response


def open_loop(port: int, path: str, token: str, rate: float, seconds: float, connections: int) -> dict:
    """Send rate*seconds GETs at fixed intervals from `connections` threads, each with its own
    keep-alive connection. A thread claims the next slot, sleeps until that slot's time and sends;
    if every thread is busy the slot is sent late and the lateness counts in its latency."""
    total = int(rate * seconds)
    interval = 1.0 / rate
    lock = threading.Lock()
    next_slot = [0]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    finished: list[float] = []
    start = time.perf_counter() + 0.2  # let every thread get to its first sleep before slot 0
    give_up = start + seconds + DRAIN_S

    def worker() -> None:
        # gunicorn keeps an idle connection for 2 s (its keepalive default) and a sync worker
        # closes each one; http.client reconnects by itself when it knows the connection closed
        # (a closed one it does not know of is sent again below), so a connect cost is part of
        # some measured latencies (of every one with KAZBILL_API_WORKER_CLASS=sync).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        headers = {"X-Auth-Token": token}
        while True:
            with lock:
                slot = next_slot[0]
                next_slot[0] += 1
            if slot >= total:
                break
            due = start + slot * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if time.perf_counter() > give_up:
                with lock:
                    errors["not sent (drain limit)"] += 1
                continue
            try:
                try:
                    response = _get(conn, path, headers)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # gunicorn closed the connection while it sat idle past its keep-alive (2 s;
                    # below one request a second per connection): sent again on a new one, as a
                    # browser would, the connect counted in its latency. Counted as errors, they
                    # were a third of the requests at 3/s over 8 connections.
                    conn.close()
                    response = _get(conn, path, headers)
                outcome = None if response.status == 200 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as error:
                conn.close()  # the next request reconnects
                outcome = type(error).__name__
            done = time.perf_counter()
            with lock:
                if outcome:
                    errors[outcome] += 1
                else:
                    latencies.append((done - due) * 1000)
                    finished.append(done)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Over the scheduled window, or longer if answers came late: a server that falls behind
    # shows an achieved rate below the target.
    elapsed = max(seconds, (max(finished) - start) if finished else seconds)
    return {
        "achieved": len(latencies) / elapsed,
        "answered": len(latencies),
        "p50": percentile(latencies, 0.5) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "errors": sum(errors.values()),
        "why": dict(errors),
    }


def bench_store(
    name: str, env_store: dict[str, str], seed: tuple[str, str], workdir: Path, args, couch: str | None = None
) -> list[tuple]:
    customer, reseller_name = seed
    rows = []
    log_path = workdir / f"gunicorn-{store_key(couch)}.log"
    print(f"{name}: starting kazbill api", file=sys.stderr)
    with serving(env_store, log_path) as port:
        token = prepare(port, customer, reseller_name)
        endpoints = {
            "ledgers/total": f"/v2/accounts/{customer}/ledgers/total",
            "transactions?page_size=50": f"/v2/accounts/{customer}/transactions?page_size=50",
        }
        for label, path in endpoints.items():
            for rate in args.rates:
                print(f"  {label} at {rate:g}/s", file=sys.stderr)
                # A request the last run gave up on may still sit in the listen backlog; one
                # /health round trip through it keeps that work out of this run's figures.
                request(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "GET", "/health")
                meter = RequestMeter(couch)
                result = open_loop(port, path, token, rate, args.seconds, args.connections)
                spent = meter.spent()
                answered = result["answered"]  # late answers included: their store requests are counted too
                result["store_requests"] = spent / answered if spent is not None and answered else None
                rows.append((name, label, rate, result))
    return rows


@contextmanager
def bare_falcon(log_path: Path) -> Iterator[int]:
    """gunicorn with the same two workers as `kazbill api` (gthread, its default threads) serving
    bench.bare_falcon: the reference."""
    port = free_port()
    threads = str(Settings().api_threads)
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--worker-class",
                "gthread",
                "--threads",
                threads,
                "bench.bare_falcon:app",
            ],
            cwd=Path(__file__).resolve().parents[1],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _answers(port), 60, "the bare Falcon app")
        yield port
    finally:
        server.terminate()
        server.wait(30)


def _answers(port: int) -> bool:
    try:
        return request(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "GET", "/ping")[0] == 200
    except OSError:
        return False


def bench_bare(workdir: Path, args) -> list[tuple]:
    with bare_falcon(workdir / "gunicorn-bare.log") as port:
        return [
            (
                "bare Falcon (reference)",
                "ping",
                rate,
                open_loop(port, "/ping", "", rate, args.seconds, args.connections),
            )
            for rate in args.rates
        ]


def record_rows(rows: list[tuple], keys: dict[str, str]) -> None:
    """`keys`: each store's name in the table (the engine and version) → its part of the figure names."""
    for name, label, rate, r in rows:
        key = "bare_falcon" if name.startswith("bare") else f"{keys[name]}.{label.split('?')[0].replace('/', '_')}"
        store = "" if key == "bare_falcon" else name
        for figure in ("achieved", "p50", "p99"):
            record(
                f"api.{key}@{rate:g}.{figure}",
                r[figure],
                "req/s" if figure == "achieved" else "ms",
                higher_is_better=figure == "achieved",
                store=store,
                reference=None if key == "bare_falcon" else f"api.bare_falcon@{rate:g}.{figure}",
            )
        if r.get("store_requests") is not None:
            record(
                f"api.{key}@{rate:g}.store_requests",
                r["store_requests"],
                "requests/request",
                higher_is_better=False,
                store=store,
            )


def seeded(store: DocumentStore) -> tuple[str, str]:
    """The customer the requests are about and the name the reseller logs in by: unique, so that
    a CouchDB other benchmarks (or an earlier run) seeded a "Reseller" into is no ambiguity."""
    try:
        world = ApiWorld(store).build()
        name = f"Reseller {uuid.uuid4().hex[:8]}"
        for db in (ACCOUNTS_DB, account_db(world.ids["reseller"])):  # the account's own copy, where there is one
            if (doc := store.get_many(db, [world.ids["reseller"]]).get(world.ids["reseller"])) is not None:
                store.put(db, {**doc, "name": name})
        return world.ids["customer"], name
    finally:
        store.close()  # the server opens its own; nothing of ours stays connected during the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], default=[100.0, 300.0, 600.0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--couch", help="a CouchDB URL (default: a pouchdb-server started for the run)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="kazbill-bench-api-") as tmp:
        workdir = Path(tmp)
        rows += bench_bare(workdir, args)
        sqlite = workdir / "api.sqlite3"
        seed = seeded(EmbeddedStore(sqlite))
        keys = {store_name(None): store_key(None)}
        rows += bench_store(store_name(None), {"KAZBILL_STORE_PATH": str(sqlite)}, seed, workdir, args)
        with nullcontext(args.couch) if args.couch else PouchDbServer() as server:
            url = args.couch or server.url
            seed = seeded(CouchDbStore(url))
            keys[store_name(url)] = store_key(url)
            rows += bench_store(store_name(url), {"KAZBILL_STORE_URL": url}, seed, workdir, args, couch=url)

    print(
        f"API benchmark: kazbill api, 2 gunicorn workers, {args.connections} client connections, "
        f"{args.seconds:g} s per rate, latency from the scheduled send time"
    )
    print(
        f"{'store':<26}{'endpoint':<28}{'target/s':>9}{'achieved/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'store req/req':>14}"
    )
    for name, label, rate, r in rows:
        per = f"{r['store_requests']:.1f}" if r.get("store_requests") is not None else ""
        print(
            f"{name:<26}{label:<28}{rate:>9g}{r['achieved']:>11.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
            f"{r['errors']:>8}{per:>14}"
        )
    for name, label, rate, r in rows:
        if r["why"]:
            print(f"errors, {name} {label} at {rate:g}/s: {r['why']}")
    record_rows(rows, keys)


if __name__ == "__main__":
    main()
