"""The API's entrances as `kazbill api` serves them (gunicorn, two gthread workers, one embedded
store shared by both): slow clients do not starve /health, /metrics answers only on its own
listener, and logout, demotion and the per-account login limit hold on every worker at once.

No assertion here is about time: the clients' timeouts only keep a broken server from hanging
the run (bench/slow_clients.py measures the latency)."""

from __future__ import annotations

import select
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db
from testkit.fixtures.api_world import ApiWorld, md5
from testkit.support.api_server import call, serving_api, sign_in
from testkit.support.kazbill_service import free_port, wait_for

pytestmark = pytest.mark.integration

SLOW_CLIENTS = 20
HANG_GUARD_S = 120.0  # a socket timeout so that a regression fails instead of hanging the run


@pytest.fixture
def world(tmp_path):
    path = tmp_path / "api.sqlite3"
    store = EmbeddedStore(path)
    built = ApiWorld(store).build()
    yield {"KAZBILL_STORE_PATH": str(path)}, built
    store.close()


class SlowClients:
    """Clients that send a request line and then one header line at a time, never the blank
    line that would end the headers, as a slowloris attack does."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD_S) for _ in range(count)]
        self.lines_sent = 0
        self._stop = threading.Event()
        for sock in self.sockets:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(0.5):
            for sock in self.sockets:
                sock.sendall(b"X-Slow: still-sending\r\n")
            self.lines_sent += 1

    def still_connected(self) -> bool:
        """Nothing came back on any of them: neither an answer nor the server closing."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return not readable and self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(HANG_GUARD_S)
        for sock in self.sockets:
            sock.close()


def test_health_answers_while_twenty_slow_clients_trickle_their_headers(world, tmp_path):
    store_env, _ = world
    with serving_api(store_env, tmp_path / "gunicorn.log") as base:
        slow = SlowClients(urlsplit(base).port, SLOW_CLIENTS)
        try:
            wait_for(lambda: slow.lines_sent >= 3, what="the slow clients' third header line")
            for _ in range(6):  # spread over both workers
                status, body = call(base, "GET", "/health")
                assert status == 200 and body["data"]["store"]["ok"] is True
            assert slow.still_connected()
        finally:
            slow.close()


def scrape(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=HANG_GUARD_S) as response:
            return response.status if b"kazbill_api_requests_total" in response.read() else -1
    except urllib.error.HTTPError as error:
        return error.code


def test_metrics_answer_on_their_own_listener_or_to_their_token_only(world, tmp_path):
    store_env, _ = world
    metrics = f"127.0.0.1:{free_port()}"
    env = {"KAZBILL_API_METRICS_BIND": metrics, "KAZBILL_API_METRICS_TOKEN": "metrics-token-0123456789"}
    with serving_api(store_env, tmp_path / "gunicorn.log", env) as base:
        assert [scrape(base + "/metrics") for _ in range(4)] == [401] * 4
        assert scrape(base + "/metrics", "metrics-token-0123456789") == 200
        assert [scrape(f"http://{metrics}/metrics") for _ in range(4)] == [200] * 4


def test_logout_demotion_and_the_login_limit_hold_on_every_worker(world, tmp_path):
    store_env, built = world
    env = {"KAZBILL_API_AUTH_CACHE": "0", "KAZBILL_API_TRUSTED_PROXY_HEADER": "X-Forwarded-For"}
    customer = built.ids["customer"]
    with serving_api(store_env, tmp_path / "gunicorn.log", env) as base:

        def balance(token: str) -> int:
            return call(base, "GET", f"/v2/accounts/{customer}/transactions/current_balance", token=token)[0]

        gone, kept = sign_in(base), sign_in(base)
        assert call(base, "DELETE", "/v2/token_auth", token=gone)[0] == 200
        assert [balance(gone) for _ in range(6)] == [401] * 6
        assert [balance(kept) for _ in range(2)] == [200] * 2

        db, user_id = account_db(built.ids["reseller"]), "user" + "1".zfill(28)
        built.store.put(db, {**built.store.get(db, user_id), "priv_level": "user"})
        assert [balance(kept) for _ in range(6)] == [401] * 6

        guesses = [
            call(
                base,
                "PUT",
                "/v2/user_auth",
                {"credentials": md5(f"boss:guess-{n}"), "account_name": "Sub"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )[0]
            for n in range(8)
        ]
        assert guesses == [401] * 5 + [429] * 3
