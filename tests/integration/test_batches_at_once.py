"""Billing a batch several accounts at a time (as a shard does on CouchDB) writes exactly what
billing it one account after another writes: the same charges for each account, and nothing
more when the batch is run again."""

from __future__ import annotations

from datetime import date, datetime

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.operations.account_batches import bill_accounts
from testkit.fixtures.api_world import MSK
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

PHONES = [1, 2, 3, 4, 5, 6, 7]


def _office(store) -> tuple[World, list[str]]:
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customers = [
        world.customer(
            f"Office {n}",
            created=datetime(2026, 10, 1 + n, 12, 0, tzinfo=MSK),
            onbill={"billing_day": 1},
            limits=GENEROUS,
            devices=phones,
        )
        for n, phones in enumerate(PHONES)
    ]
    return world, customers


def _charges(store, account_id: str) -> list[tuple[str, int]]:
    return sorted(kazbill_entries(store, account_id, [(2026, 11)]).values())


def _month(store, world: World, customers: list[str], at_once: int) -> list[list[tuple[str, int]]]:
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs, passes_at_once=at_once)
    opened = bill_accounts(ports, customers, day=date(2026, 11, 1))
    assert opened.done == tuple(customers) and not opened.failed and not opened.not_done
    clock.set(datetime(2026, 11, 10, 15, 0, tzinfo=MSK))  # two more phones each, mid-month
    for account_id in customers:
        world.add_devices(account_id, 2, created=datetime(2026, 11, 10, 14, 0, tzinfo=MSK))
    changed = bill_accounts(ports, customers)
    assert changed.done == tuple(customers) and not changed.failed
    return [_charges(store, account_id) for account_id in customers]


def test_a_batch_billed_four_at_a_time_charges_what_one_at_a_time_charges(store):
    one_by_one_world, one_by_one = _office(store)
    at_once_world, at_once = _office(store)
    expected = _month(store, one_by_one_world, one_by_one, at_once=1)
    assert _month(store, at_once_world, at_once, at_once=4) == expected
    assert all(charges for charges in expected)  # each account was charged: the comparison means something

    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 10, 15, 5, tzinfo=MSK)), at_once_world.design_docs, 4)
    again = bill_accounts(ports, at_once)
    assert not [event for event in again.events if event.name == "charged"]
    assert [_charges(store, account_id) for account_id in at_once] == expected
