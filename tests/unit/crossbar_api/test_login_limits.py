"""Password guessing is limited per account the login names, through the store, with waits that
double; the client's address is read from the trusted proxy's header only, so clients behind one
proxy keep budgets of their own and a client cannot pick its address."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from falcon import testing

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from crossbar_api.login_throttle import LoginPolicy, LoginThrottle
from testkit.fixtures.api_world import MSK, ApiWorld, md5

PROXY_HEADER = "X-Forwarded-For"


@pytest.fixture
def world(tmp_path):
    store = EmbeddedStore(tmp_path / "api.sqlite3")
    yield ApiWorld(store).build()
    store.close()


@pytest.fixture
def clock():
    return SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))


def worker(world, clock, header: str | None = PROXY_HEADER, address_budget: int = 1000):
    """One API worker: its own memory (the address budget), the shared store."""
    return testing.TestClient(
        create_app(
            ApiDeps(
                store=world.store,
                clock=clock,
                design_docs=world.world.design_docs,
                tokens=TokenSigner(b"test-secret-0123456789", 3600),
                attempts=AttemptLimiter(address_budget, 300),
                trusted_proxy_header=header,
            )
        )
    )


def login(client, password: str, address: str | None = None, **where):
    headers = {PROXY_HEADER: address} if address else {}
    where = where or {"account_name": "Reseller"}
    return client.simulate_put(
        "/v2/user_auth", headers=headers, json={"data": {"credentials": md5(f"boss:{password}"), **where}}
    )


def test_guesses_at_one_account_from_thirty_addresses_are_stopped_after_five(world, clock):
    client = worker(world, clock)
    answers = [login(client, f"guess-{n}", f"198.51.100.{n % 30}") for n in range(300)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in answers[5:])
    assert login(client, "secret", "203.0.113.9").status_code == 429  # the right password waits too


def test_each_wait_past_the_free_failures_doubles(world, clock):
    client, waits = worker(world, clock), []
    for _ in range(5):
        login(client, "guess", "198.51.100.1")
    for _ in range(4):
        refused = login(client, "guess", "198.51.100.1")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert login(client, "guess", "198.51.100.1").status_code == 401  # one more try, then a longer wait
    assert waits == [2, 4, 8, 16]
    clock.advance(timedelta(seconds=32))
    assert login(client, "secret", "198.51.100.1").status_code == 201


def test_the_count_is_shared_by_every_worker_through_the_store(world, clock):
    workers = [worker(world, clock), worker(world, clock)]
    statuses = [login(workers[n % 2], f"guess-{n}", f"198.51.100.{n}").status_code for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3


def test_every_way_of_naming_the_account_counts_against_it(world, clock):
    client = worker(world, clock)
    ways = [
        {"account_name": "Reseller"},
        {"account_name": "RESELLER"},
        {"account_name": "re-seller!"},
        {"account_realm": "reseller.sip.example.net"},
        {"account_name": "reseller"},
    ]
    assert [login(client, "guess", "198.51.100.7", **where).status_code for where in ways] == [401] * 5
    assert login(client, "guess", "198.51.100.8", account_realm="RESELLER.sip.example.net").status_code == 429


def test_a_good_login_does_not_use_up_the_budget_nor_clear_the_failures(world, clock):
    client = worker(world, clock)
    for _ in range(4):
        assert login(client, "guess", "198.51.100.2").status_code == 401
    for _ in range(3):
        assert login(client, "secret", "198.51.100.3").status_code == 201
    assert login(client, "guess", "198.51.100.2").status_code == 401
    assert login(client, "guess", "198.51.100.2").status_code == 429


def test_an_accounts_failures_are_forgotten_after_an_hour_without_one(world, clock):
    client = worker(world, clock)
    for _ in range(5):
        login(client, "guess", "198.51.100.4")
    clock.advance(timedelta(seconds=LoginPolicy().forget_after_s + 1))
    assert [login(client, "guess", "198.51.100.4").status_code for _ in range(5)] == [401] * 5


def test_behind_the_trusted_proxy_one_clients_failures_do_not_lock_out_the_others(world, clock):
    client = worker(world, clock, address_budget=10)
    for n in range(10):  # names no account: only the address's budget is spent
        assert login(client, "guess", "198.51.100.5", account_name=f"nobody{n}").status_code == 401
    assert login(client, "guess", "198.51.100.5", account_name="nobody").status_code == 429
    assert login(client, "secret", "203.0.113.20").status_code == 201  # same proxy, another client
    assert login(client, "secret", "203.0.113.21, 198.51.100.5").status_code == 429  # the proxy's entry is the last


def test_without_a_configured_header_a_client_cannot_choose_its_address(world, clock):
    client = worker(world, clock, header=None, address_budget=10)
    for n in range(10):
        login(client, "guess", f"198.51.100.{n}", account_name=f"nobody{n}")
    assert login(client, "secret", "203.0.113.20").status_code == 429  # the header is ignored: one peer


def test_a_burst_sent_at_once_gets_no_more_than_the_free_tries(world, clock):
    throttle, now, allowed = LoginThrottle(world.store, LoginPolicy()), clock.now().timestamp(), []
    start = threading.Barrier(20)

    def attempt() -> None:
        start.wait()
        if throttle.begin(world.ids["reseller"], now) is None:
            allowed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= len(allowed) <= LoginPolicy().free_failures
