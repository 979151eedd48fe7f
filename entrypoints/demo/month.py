"""A month in the life of the demo's customers: what Kazoo writes (devices, users, numbers,
trunks, a new account) and what a reseller posts (wire transfers), day by day.

Each step writes into the store exactly what Kazoo or the API would; billing only ever learns of
it through the changes feed, as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bookkeeper.domain.kazoo_names import account_db, gregorian_of
from bookkeeper.domain.money import units_from_major
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.payments.postings import apply_payment
from entrypoints.demo.world import Customer, DemoWorld


@dataclass(frozen=True)
class Step:
    day: int  # day of the month the demo starts in (1 = its first day)
    what: str
    apply: Callable[[DemoWorld, BillingPorts, datetime], None]


def _stamp(now: datetime) -> int:
    """Kazoo stamps every save with pvt_modified, in Gregorian seconds: billing dates the change by it."""
    return gregorian_of(now)


def add_devices(name: str, count: int, kind: str = "sip_device") -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        account_id = world.accounts[name]
        world.store.bulk_put(account_db(account_id), [world.device(account_id, kind, now) for _ in range(count)])

    return apply


def add_user(name: str) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        account_id = world.accounts[name]
        world.store.put(account_db(account_id), world.user(account_id, "user", now))

    return apply


def remove_device(name: str) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        account_id, db = world.accounts[name], account_db(world.accounts[name])
        device = world.store.get(db, f"{account_id[:8]}device{1:018d}")
        # As Kazoo's crossbar deletes: the flag, and the moment in pvt_modified (the audit reads it).
        world.store.put(db, {**device, "pvt_deleted": True, "pvt_modified": _stamp(now)})

    return apply


def set_trunks(name: str, trunks: int) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        db = account_db(world.accounts[name])
        world.store.put(db, {**world.store.get(db, "limits"), "twoway_trunks": trunks, "pvt_modified": _stamp(now)})

    return apply


def add_number(name: str, number: str) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        db = account_db(world.accounts[name])
        numbers = world.store.get(db, "phone_numbers")
        world.store.put(
            db, {**numbers, number: {"state": "in_service", "features": ["local"]}, "pvt_modified": _stamp(now)}
        )

    return apply


def wire_transfer(name: str, amount: str, reference: str) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        apply_payment(
            ports,
            world.accounts[name],
            amount=units_from_major(amount),
            reason="wire_transfer",
            external_id=reference,
            by="demo-reseller-admin",
        )

    return apply


def new_customer(customer: Customer) -> Callable[[DemoWorld, BillingPorts, datetime], None]:
    def apply(world: DemoWorld, ports: BillingPorts, now: datetime) -> None:
        world.add_customer(customer, now)
        wire_transfer(customer.name, customer.credit, f"{customer.name}-opening")(world, ports, now)

    return apply


MONTH = (
    Step(3, "Alpha Taxi adds 2 desk phones", add_devices("Alpha Taxi", 2)),
    Step(5, "Beta Clinic adds a user", add_user("Beta Clinic")),
    Step(6, "Gamma Shop pays 1,000.00 RUB by wire transfer", wire_transfer("Gamma Shop", "1000.00", "gamma-0006")),
    Step(8, "Beta Clinic takes a second city number", add_number("Beta Clinic", "+74951230012")),
    Step(10, "Kiel Logistics raises its trunks from 2 to 4", set_trunks("Kiel Logistics", 4)),
    Step(12, "Fjord Design adds 2 desk phones (daily fees from today)", add_devices("Fjord Design", 2)),
    Step(
        15,
        "Lund Studio signs up with Nordic Voice",
        new_customer(
            Customer("Lund Studio", "Nordic Voice", 2, {"sip_device": 2}, ("+4930123421",), 0, "60.00", "en-GB")
        ),
    ),
    Step(18, "Alpha Taxi removes a desk phone", remove_device("Alpha Taxi")),
    Step(22, "Beta Clinic adds a softphone", add_devices("Beta Clinic", 1, "softphone")),
    Step(25, "Kiel Logistics lowers its trunks to 3", set_trunks("Kiel Logistics", 3)),
)
