"""A shard bills several accounts of a batch at once: the batch still reports every account
once, in the order it was given, and an unreachable store stops it from starting more."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.ports import StoreUnavailable
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.operations import account_batches
from bookkeeper.services.operations.account_batches import bill_accounts

IDS = [f"{n:032x}" for n in range(1, 11)]


@pytest.fixture
def ports(store):
    return BillingPorts(store, SettableClock(datetime(2026, 11, 5, 12, 0, tzinfo=UTC)), (), passes_at_once=4)


def test_accounts_billed_at_once_are_reported_in_the_batchs_order(ports, monkeypatch):
    together = threading.Barrier(4, timeout=60)  # only passes that overlap get past it
    seen: list[str] = []

    def reconcile(ports, account_id):
        if account_id in IDS[:4]:
            together.wait()
        seen.append(account_id)
        return [BillingEvent("charged", account_id, {"n": 1}), BillingEvent("charged", account_id, {"n": 2})]

    monkeypatch.setattr(account_batches, "reconcile_account", reconcile)
    outcome = bill_accounts(ports, IDS)
    assert outcome.done == tuple(IDS) and not outcome.failed and not outcome.not_done
    assert [(event.account_id, event.details["n"]) for event in outcome.events] == [
        (account_id, n) for account_id in IDS for n in (1, 2)
    ]
    assert sorted(seen) == IDS


def test_an_unreachable_store_starts_nothing_more_and_hands_back_what_is_not_done(ports, monkeypatch):
    def reconcile(ports, account_id):
        if account_id == IDS[2]:
            raise StoreUnavailable("http://couch", "connection refused")
        return []

    monkeypatch.setattr(account_batches, "reconcile_account", reconcile)
    monkeypatch.setattr(account_batches, "store_answers", lambda store: False)  # gone for every account
    for at_once in (1, 4):
        outcome = bill_accounts(BillingPorts(ports.store, ports.clock, (), passes_at_once=at_once), IDS)
        assert IDS[2] in outcome.not_done and not outcome.failed
        assert sorted(outcome.done + outcome.not_done) == IDS  # each account once: done or handed back
        if at_once == 1:
            assert outcome.done == tuple(IDS[:2]) and outcome.not_done == tuple(IDS[2:])


def test_an_account_named_twice_is_never_billed_by_two_passes_at_once(ports, monkeypatch):
    running: set[str] = set()
    overlapped: list[str] = []

    def reconcile(ports, account_id):
        if account_id in running:
            overlapped.append(account_id)
        running.add(account_id)
        try:
            return []
        finally:
            running.discard(account_id)

    monkeypatch.setattr(account_batches, "reconcile_account", reconcile)
    outcome = bill_accounts(ports, [IDS[0], IDS[1], IDS[0], IDS[0]])
    assert outcome.done == (IDS[0], IDS[1], IDS[0], IDS[0]) and not overlapped


def test_a_crash_is_recorded_for_its_account_alone(ports, store, monkeypatch):
    def reconcile(ports, account_id):
        if account_id == IDS[5]:
            raise KeyError("pvt_tree")
        return []

    monkeypatch.setattr(account_batches, "reconcile_account", reconcile)
    outcome = bill_accounts(ports, IDS)
    assert [account for account, _ in outcome.failed] == [IDS[5]]
    assert outcome.done == tuple(account for account in IDS if account != IDS[5])
    assert "KeyError" in outcome.failed[0][1]
