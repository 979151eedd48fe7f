"""The simulator: the same seed writes the same cluster and traffic; its history is what the
documents said after each change, a sign-up being its account's only change that day; the
history file round-trips and a bad one is refused with the field named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.audit.audit_history import HistoryError, read_history, write_history
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import current_quantities
from entrypoints.simulation.cluster import Scale, SimulatedCluster, utc


def simulate(path, seed: int, days: int = 6) -> SimulatedCluster:
    store = EmbeddedStore(path)
    clock = SettableClock(datetime(2026, 11, 20, 5, tzinfo=UTC))
    cluster = SimulatedCluster(
        BillingPorts(store, clock, load_design_docs()),
        list(load_design_docs()),
        Scale(resellers=3, accounts=6, change_percent=60, signup_percent=40, seed=seed),
    )
    cluster.seed(clock.now())
    for offset in range(days):
        now = utc(date(2026, 11, 20 + offset), 15)
        clock.set(now)
        cluster.live_day(now)
    return cluster


def test_the_same_seed_gives_the_same_cluster_and_traffic(tmp_path):
    first, second = simulate(tmp_path / "a.sqlite3", 5), simulate(tmp_path / "b.sqlite3", 5)
    assert first.history == second.history and first.counts == second.counts
    assert list(first.customers) == list(second.customers)
    other = simulate(tmp_path / "c.sqlite3", 6)
    assert other.history != first.history


def test_the_history_is_what_the_documents_said_after_each_change(tmp_path):
    cluster = simulate(tmp_path / "s.sqlite3", 11)
    assert cluster.counts.signups > 0 and sum(cluster.counts.changes.values()) > 5
    for account_id in cluster.customers:
        steps = cluster.history[account_id]
        day, last = steps[-1]
        assert last == current_quantities(cluster.store, account_id)
        assert date(2026, 11, 20) <= day <= date(2026, 11, 25)
        assert [d for d, _ in steps] == sorted(d for d, _ in steps)
        if steps[0][0] > date(2026, 11, 20):  # signed up during the run: nothing else that day
            assert [d for d, _ in steps].count(steps[0][0]) == 1
    # Three flavours of reseller, each with its currency; every other one under the one before.
    currencies = {cluster.store.get(account_db(r), "onbill")["currency"] for r, _ in cluster.resellers}
    assert currencies == {"RUB", "EUR", "USD"}


def test_the_history_file_round_trips(tmp_path):
    history = {"a" * 32: [(date(2026, 11, 20), {"devices": {"sip_device": 2}}), (date(2026, 11, 22), {})]}
    write_history(tmp_path / "h.json", history)
    assert read_history(tmp_path / "h.json") == history


@pytest.mark.parametrize(
    "body, field",
    [
        ({"format": "other"}, "format"),
        ({"format": "kazbill-history/1", "accounts": []}, "accounts"),
        ({"format": "kazbill-history/1", "accounts": {"nope": []}}, "accounts.nope"),
        ({"format": "kazbill-history/1", "accounts": {"a" * 32: [["20-11-2026", {}]]}}, f"accounts.{'a' * 32}[0][0]"),
        (
            {"format": "kazbill-history/1", "accounts": {"a" * 32: [["2026-11-20", {"devices": {"x": -1}}]]}},
            f"accounts.{'a' * 32}[0].devices",
        ),
    ],
)
def test_a_bad_history_file_is_refused_with_the_field_named(tmp_path, body, field):
    (tmp_path / "h.json").write_text(json.dumps(body))
    with pytest.raises(HistoryError) as refused:
        read_history(tmp_path / "h.json")
    assert refused.value.field == field


def test_calls_are_cdrs_in_the_monthly_database_and_the_calls_audit_names_each_unbilled_one(tmp_path):
    from bookkeeper.domain.kazoo_names import account_modb
    from entrypoints.simulation.calls import audit_calls

    store = EmbeddedStore(tmp_path / "calls.sqlite3")
    clock = SettableClock(datetime(2026, 11, 20, 5, tzinfo=UTC))
    cluster = SimulatedCluster(
        BillingPorts(store, clock, load_design_docs()),
        list(load_design_docs()),
        Scale(resellers=2, accounts=4, change_percent=0, signup_percent=0, seed=3, call_percent=100),
    )
    cluster.seed(clock.now())
    now = utc(date(2026, 11, 20), 15)
    cluster.live_day(now)
    assert cluster.calls and all(call.billing_seconds > 0 for call in cluster.calls)
    first = cluster.calls[0]
    cdr = store.get(account_modb(first.account_id, 2026, 11), f"202611-{first.call_id}")
    assert cdr["pvt_type"] == "cdr" and cdr["custom_channel_vars"]["account_id"] == first.account_id
    # No service billed them: each call is missing once per paying level (the sub-reseller's
    # customers' calls twice: the customer, and the sub-reseller at its parent's deck).
    missing = audit_calls(store, cluster.calls, list(cluster.customers), cluster.levels)
    assert {d.kind for _, d in missing} == {"missing"}
    assert len(missing) == sum(len(cluster.levels(call.account_id)) for call in cluster.calls)


def test_with_a_bus_every_write_and_call_is_announced_as_kazoo_announces_it(tmp_path):
    """Each notice parses into the change of the document written (none is refused), and each
    answered call's CHANNEL_DESTROY into the carrier leg billing rates; nothing is sent before
    the day's flush."""
    from actors.bridges.kazoo_messages import finished_call, parse_call_event, parse_config_message
    from actors.messages import DocumentChanged
    from entrypoints.simulation.kazoo_bus import KazooBus

    sent: list = []
    store = EmbeddedStore(tmp_path / "bus.sqlite3")
    clock = SettableClock(datetime(2026, 11, 20, 5, tzinfo=UTC))
    cluster = SimulatedCluster(
        BillingPorts(store, clock, load_design_docs()),
        list(load_design_docs()),
        Scale(resellers=2, accounts=4, change_percent=100, signup_percent=100, seed=3, call_percent=100),
    )
    cluster.bus = KazooBus("amqp://unused", deliveries=lambda messages: sent.extend(messages) or [])
    cluster.seed(clock.now())
    cluster.live_day(utc(date(2026, 11, 20), 15))
    assert sent == [] and cluster.bus.pending
    cluster.bus.flush()
    changes = [
        parse_config_message(key, body, received_gregorian=1)
        for exchange, key, body in sent
        if exchange == "configuration"
    ]
    ended = [parse_call_event(key, body, received_gregorian=1) for exchange, key, body in sent if exchange == "callevt"]
    billed = [c for c in changes if c is not None]
    assert billed and all(isinstance(c, DocumentChanged) for c in billed), billed
    assert {c.account_id for c in billed} >= set(cluster.customers)
    assert {c.action for c in billed} >= {"created", "edited"}
    calls = {call.call_id: call for call in map(finished_call, ended)}
    assert {call.call_id for call in cluster.calls} <= set(calls)
    for placed in cluster.calls:
        assert calls[placed.call_id].offnet and calls[placed.call_id].billing_seconds == placed.billing_seconds


def test_a_closed_account_is_flagged_as_kazoo_deletes_it_and_nothing_happens_to_it_after(tmp_path):
    from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB

    store = EmbeddedStore(tmp_path / "c.sqlite3")
    clock = SettableClock(datetime(2026, 11, 20, 5, tzinfo=UTC))
    cluster = SimulatedCluster(
        BillingPorts(store, clock, load_design_docs()),
        list(load_design_docs()),
        Scale(resellers=2, accounts=6, change_percent=80, signup_percent=0, seed=4, call_percent=80, close_percent=50),
    )
    cluster.seed(clock.now())
    for offset in range(8):
        cluster.live_day(utc(date(2026, 11, 20 + offset), 15))
    closed = [c for c in cluster.customers.values() if c.closed]
    assert closed and cluster.counts.closes == len(closed)
    for customer in closed:
        for db in (ACCOUNTS_DB, account_db(customer.account_id), SERVICES_DB):
            assert store.get(db, customer.account_id)["pvt_deleted"] is True
        steps = cluster.history[customer.account_id]
        close_day = steps[-1][0]
        assert [q for d, q in steps[1:] if d == close_day] == [{}]  # after its seeding, the day's one change
        assert all(
            call.account_id != customer.account_id or call.ended_gregorian < gregorian_of(close_day)
            for call in cluster.calls
        )


def gregorian_of(day: date) -> int:
    from entrypoints.simulation.flavours import gregorian

    return gregorian(utc(day, 0))
