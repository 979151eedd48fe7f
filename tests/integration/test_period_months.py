"""Which monthly databases a period's entries are looked for in (PassInputs.period_months): from
the UTC month in which its first day began anywhere on Earth. A period that starts on the 1st is
looked for from the month before (a reseller east of UTC opens it before UTC's month turns, and
may since have moved west); one that starts mid-month only from its own month."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from testkit.fixtures.api_world import MSK
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries
from tests.integration.test_pass_requests import ReadsNamed

pytestmark = pytest.mark.integration
NEW_YORK = ZoneInfo("America/New_York")
DESK_PHONE = 5_000_000  # 500.00 a month, in Kazoo's units


def office(store, billing_day: int, devices: int = 2):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "C",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": billing_day},
        limits=GENEROUS,
        devices=devices,
    )
    return world, customer


def charges_asked(reads: ReadsNamed, customer: str) -> set[str]:
    return {db for db, view in reads.views if view == "charges_by_period" and db.startswith(account_db(customer))}


def test_a_period_from_the_15th_is_looked_for_in_its_own_months_only(store):
    world, customer = office(store, billing_day=15)
    clock = SettableClock(datetime(2026, 10, 20, 12, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_account_day(ports, customer, date(2026, 10, 20))  # October exists: the month before is there to ask
    clock.set(datetime(2026, 11, 15, 12, 0, tzinfo=MSK))
    crawl_account_day(ports, customer, date(2026, 11, 15))  # opens 15 November - 14 December
    world.add_devices(customer, 1, created=datetime(2026, 11, 20, 10, 0, tzinfo=MSK))
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=MSK))
    reads = ReadsNamed(store)
    events = reconcile_account(BillingPorts(reads, clock, world.design_docs), customer)
    assert [event.name for event in events].count("charged") == 1
    assert charges_asked(reads, customer) == {account_modb(customer, 2026, 11)}  # not October's


def test_a_period_from_the_1st_is_looked_for_from_the_month_before(store):
    world, customer = office(store, billing_day=1)
    clock = SettableClock(datetime(2026, 12, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_account_day(ports, customer, date(2026, 12, 1))  # 21:05 UTC on 30 November
    world.add_devices(customer, 1, created=datetime(2026, 12, 10, 10, 0, tzinfo=MSK))
    clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=MSK))
    reads = ReadsNamed(store)
    reconcile_account(BillingPorts(reads, clock, world.design_docs), customer)
    assert account_modb(customer, 2026, 11) in charges_asked(reads, customer)


def test_a_reseller_that_moves_west_mid_period_charges_nothing_twice(store):
    """Opened from Moscow at 00:05 on 1 December (November in UTC), then the reseller moves to New
    York, where 1 December began in December: the opening is still found where it was written,
    and a device added on the 10th is the only new charge."""
    world, customer = office(store, billing_day=1)
    clock = SettableClock(datetime(2026, 12, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_account_day(ports, customer, date(2026, 12, 1))
    opened = kazbill_entries(store, customer, [(2026, 12)])
    assert [event_part(entry_id) for entry_id in opened] == ["kazbill-mrc-20261201-devices-sip_device-q2"]
    assert all(entry_id.startswith("202611-") for entry_id in opened)  # written before UTC's month turned
    onbill = store.get(account_db(world.reseller), "onbill")
    store.put(account_db(world.reseller), {**onbill, "timezone": "America/New_York"})
    world.add_devices(customer, 1, created=datetime(2026, 12, 10, 10, 0, tzinfo=NEW_YORK))
    clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=NEW_YORK))
    reconcile_account(ports, customer)
    charged = {
        event_part(entry_id): entry for entry_id, entry in kazbill_entries(store, customer, [(2026, 12)]).items()
    }
    assert sorted(charged) == [
        "kazbill-mrc-20261201-devices-sip_device-q2",  # the two desk phones the period opened with
        "kazbill-mrc-20261201-devices-sip_device-q3",  # the third, from the 10th
    ]
    assert charged["kazbill-mrc-20261201-devices-sip_device-q2"] == ("debit", 2 * DESK_PHONE)
    assert charged["kazbill-mrc-20261201-devices-sip_device-q3"] == ("debit", 3_548_390)  # 500.00 × 22/31
