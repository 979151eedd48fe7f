"""Slow-client benchmark: the latency of /health on `kazbill api` (two workers, embedded store)
while N clients trickle header lines and never finish their request (a slowloris), for each
worker class Kazbill can run. The test suite only checks that /health answers
(tests/integration/test_api_entrances_on_gunicorn.py); the figures are here. Asserts nothing.

    .venv/bin/python -m bench.slow_clients [--slow 20] [--requests 200] [--classes gthread,sync]

A request that takes longer than --timeout counts as an error; after three such in a row the
class is reported as starved and the rest of its requests are not sent.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import socket
import tempfile
import threading
import time
from pathlib import Path

from bench.record import record
from bench.store import percentile
from bookkeeper.adapters.embedded import EmbeddedStore
from testkit.fixtures.api_world import ApiWorld
from testkit.support.api_server import serving_api

TRICKLE_EVERY_S = 2.0  # one header line per client every two seconds, as in the issue
STARVED_AFTER = 3


class Slowloris:
    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(TRICKLE_EVERY_S):
            for sock in self.sockets:
                # the server gave up on this one: fine for the server, noted by nobody
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


def health_latencies(port: int, requests: int, timeout_s: float) -> tuple[list[float], int]:
    latencies, errors, in_a_row = [], 0, 0
    for _ in range(requests):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            conn.close()
            ok = response.status == 200
        except OSError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
            in_a_row = 0
        else:
            errors, in_a_row = errors + 1, in_a_row + 1
            if in_a_row >= STARVED_AFTER:
                return latencies, requests - len(latencies)  # the unsent count as failed
    return latencies, errors


def run(worker_class: str, slow: int, requests: int, timeout_s: float, workdir: Path) -> dict:
    with serving_api(
        {"KAZBILL_STORE_PATH": str(workdir / "api.sqlite3")},
        workdir / f"gunicorn-{worker_class}.log",
        {"KAZBILL_API_WORKER_CLASS": worker_class},
    ) as base:
        port = int(base.rsplit(":", 1)[1])
        quiet, _ = health_latencies(port, min(requests, 50), timeout_s)
        attack = Slowloris(port, slow)
        try:
            time.sleep(TRICKLE_EVERY_S * 1.5)  # let every slow client get its connection taken up
            latencies, errors = health_latencies(port, requests, timeout_s)
        finally:
            attack.close()
    return {
        "class": worker_class,
        "quiet_p50": percentile(quiet, 0.5) if quiet else float("nan"),
        "latencies": latencies,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=20, help="slow clients held open during the run")
    parser.add_argument("--requests", type=int, default=200, help="/health requests, one after another")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds before a /health request counts as an error"
    )
    parser.add_argument("--classes", default="gthread,sync")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="kazbill-bench-slow-") as tmp:
        workdir = Path(tmp)
        store = EmbeddedStore(workdir / "api.sqlite3")
        ApiWorld(store).build()
        store.close()
        for worker_class in args.classes.split(","):
            rows.append(run(worker_class.strip(), args.slow, args.requests, args.timeout, workdir))

    print(
        f"/health under {args.slow} slow clients (one header line each every {TRICKLE_EVERY_S:g} s), "
        f"kazbill api with 2 workers, {args.requests} requests one after another, {args.timeout:g} s timeout"
    )
    print(f"{'worker class':<14}{'quiet p50 ms':>13}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for row in rows:
        lat = row["latencies"]
        figures = [percentile(lat, f) for f in (0.5, 0.9, 0.99)] + [max(lat)] if lat else [float("nan")] * 4
        print(
            f"{row['class']:<14}{row['quiet_p50']:>13.1f}"
            + "".join(f"{v:>9.1f}" for v in figures)
            + f"{row['errors']:>8}"
            + ("  (starved)" if row["errors"] and not lat else "")
        )
        if lat:
            record(f"slow_clients.{row['class']}.health_p99", figures[2], "ms", higher_is_better=False)
        record(f"slow_clients.{row['class']}.errors", row["errors"], "requests", higher_is_better=False)


if __name__ == "__main__":
    main()
