"""A Kazoo-shaped cluster at a chosen scale, written into a store the way Kazoo writes it:
a master, a tree of resellers (each with its own currency, timezone and plan, one of them
charging phones daily), customers with users, devices, numbers and trunks, and a seeded,
repeatable traffic of changes, sign-ups and wire transfers, day after day.

The simulator also keeps the truth: each account's quantities after every change (several a
day, in order), read back through the same views Kazoo's documents are counted by. That history is
what the audit recomputes the charges from (`kazbill audit --history`), so limits and numbers,
of which Kazoo keeps no history, are audited too.

Every change of an account is one document write, so that the bookkeeper sees each day's
changes of an account either all or in the same steps the history records.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db
from bookkeeper.domain.quantities import Quantities
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.payments.postings import apply_payment
from bookkeeper.services.setup import store_setup
from entrypoints.simulation import calls
from entrypoints.simulation.calls import SimulatedCall
from entrypoints.simulation.customers import Customer, account_doc, new_device, new_user, number, opening_docs
from entrypoints.simulation.flavours import ACTIONS, FLAVOURS, OPENING_CREDIT, Counts, Scale, gregorian, plan, sim_id
from entrypoints.simulation.kazoo_bus import KazooBus
from entrypoints.simulation.settled_reads import settled_quantities


class SimulatedCluster:
    def __init__(self, ports: BillingPorts, design_docs: list[DesignDoc], scale: Scale):
        self.ports, self.store, self.design_docs, self.scale = ports, ports.store, design_docs, scale
        self.random = random.Random(scale.seed)
        self.master_id = sim_id(scale.seed, "master")
        self.resellers: list[tuple[str, str]] = []  # (id, timezone)
        self.reseller_parents: dict[str, str] = {}  # the reseller that bills each reseller
        self.customers: dict[str, Customer] = {}
        self.history: dict[str, list[tuple[date, Quantities]]] = {}
        self.calls: list[SimulatedCall] = []
        self.counts = Counts()
        self.bus: KazooBus | None = None  # set: Kazoo's AMQP notices of every write and call, too

    # ------------------------------------------------------------------ the tree
    def seed(self, created: datetime) -> SimulatedCluster:
        store_setup.initialise(self.store, self.design_docs)
        self._account(self.master_id, "Simulated Master", [], reseller=False, created=created)
        for n in range(self.scale.resellers):
            currency, tz, locale, rates, daily_phones = FLAVOURS[n % len(FLAVOURS)]
            parent = self.resellers[n - 1][0] if n % 2 else self.master_id  # every other one a sub-reseller
            tree = self._tree_of(parent)
            reseller_id = sim_id(self.scale.seed, f"reseller-{n}")
            self.reseller_parents[reseller_id] = self._reseller_above(parent)
            self._account(
                reseller_id,
                f"Reseller {n} ({currency})",
                tree,
                reseller=True,
                created=created,
                reseller_above=self.reseller_parents[reseller_id],
            )
            onbill: dict[str, Any] = {
                "_id": "onbill",
                "pvt_type": "onbill",
                "currency": currency,
                "timezone": tz,
                "locale": locale,
                "default_service_plan": f"plan_sim_{n}",
                "default_rate_deck": calls.DECK,
            }
            if daily_phones:
                onbill["charging"] = {"devices": "daily"}
            self._bulk_put(
                account_db(reseller_id),
                [
                    onbill,
                    {"_id": f"plan_sim_{n}", "pvt_type": "service_plan", "name": f"Plan {n}", "plan": plan(rates)},
                ],
            )
            calls.install_deck(self.store, reseller_id)
            self.resellers.append((reseller_id, tz))
        for n in range(self.scale.accounts):
            self._customer(
                self.resellers[n % len(self.resellers)][0],
                created,
                devices=1 + n % 3,
                users=1 + n % 2,
                numbers=n % 2,
                trunks=n % 3,
            )
        return self

    def _tree_of(self, account_id: str) -> list[str]:
        return [*self.store.get(ACCOUNTS_DB, account_id).get("pvt_tree", []), account_id]

    def _reseller_above(self, parent: str) -> str:
        return parent if any(parent == reseller for reseller, _ in self.resellers) else self.master_id

    def _account(
        self,
        account_id: str,
        name: str,
        tree: list[str],
        *,
        reseller: bool,
        created: datetime,
        reseller_above: str | None = None,
        docs: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Kazoo's order: the services document, the account's database with its documents,
        then the account document (so no one sees an account whose database is not there)."""
        services = {"_id": account_id, "pvt_type": "service", "pvt_tree": tree, "pvt_reseller": reseller}
        if reseller_above:
            services["pvt_reseller_id"] = reseller_above
        self._put(SERVICES_DB, services)
        db = account_db(account_id)
        if self.store.ensure_database(db):
            store_setup.install_design_docs(self.store, db, self.design_docs)
        doc = account_doc(account_id, name, tree, reseller=reseller, created=created)
        self._bulk_put(db, [*docs, doc])
        self._put(ACCOUNTS_DB, doc)
        self.counts.writes += 3 + len(docs)

    def _customer(
        self, reseller_id: str, created: datetime, *, devices: int, users: int, numbers: int, trunks: int
    ) -> str:
        index = len(self.customers)
        account_id = sim_id(self.scale.seed, f"customer-{index}")
        customer = Customer(account_id, reseller_id, index)
        docs = opening_docs(customer, created, devices=devices, users=users, numbers=numbers, trunks=trunks)
        self._account(
            account_id,
            f"Customer {index}",
            self._tree_of(reseller_id),
            reseller=False,
            created=created,
            reseller_above=reseller_id,
            docs=docs,
        )
        self.customers[account_id] = customer
        currency = self.store.get(account_db(reseller_id), "onbill")["currency"]
        apply_payment(
            self.ports,
            account_id,
            amount=OPENING_CREDIT[currency],
            reason="wire_transfer",
            external_id=f"{account_id}-opening",
            by="simulator",
        )
        self._remember(account_id, self._local_day(reseller_id, created))
        return account_id

    # ------------------------------------------------------------------ a day of traffic
    def live_day(self, now: datetime) -> list[str]:
        """The day's traffic at `now`: sign-ups, then one change (or none) per account.
        Returns what happened, a line each."""
        happened, signed_up = [], set()
        for reseller_id, _ in self.resellers:
            if self.random.randrange(100) < self.scale.signup_percent:
                account_id = self._customer(
                    reseller_id,
                    now,
                    devices=self.random.randrange(3),
                    users=1,
                    numbers=self.random.randrange(2),
                    trunks=0,
                )
                self.counts.signups += 1
                signed_up.add(account_id)
                happened.append(f"{account_id} signs up")
        # A sign-up or a closing is its account's one change of the day: a second one at the same
        # moment may or may not be seen apart by the follower, and the truth must not depend on that.
        quiet = signed_up | self._closings(now, signed_up, happened)
        for customer in list(self.customers.values()):
            if (
                customer.closed
                or customer.account_id in quiet
                or self.random.randrange(100) >= self.scale.change_percent
            ):
                continue
            action = self.random.choice(ACTIONS)
            if getattr(self, f"_{action}")(customer, now):
                self.counts.changes[action] = self.counts.changes.get(action, 0) + 1
                happened.append(f"{customer.account_id} {action}")
                if action != "payment":
                    self._remember(customer.account_id, self._local_day(customer.reseller_id, now))
        for customer in list(self.customers.values()):
            if (
                not customer.closed
                and customer.account_id not in quiet
                and self.random.randrange(100) < self.scale.call_percent
            ):
                placed = calls.place_calls(
                    self.store,
                    self.random,
                    customer.account_id,
                    customer.index,
                    now,
                    1 + self.random.randrange(3),
                    self.bus,
                )
                self.calls += placed
                self.counts.writes += len(placed)
                happened.append(f"{customer.account_id} calls {len(placed)} times")
        return happened

    def _closings(self, now: datetime, signed_up: set[str], happened: list[str]) -> set[str]:
        """Kazoo deletes an account: the flag and the moment on its document (in `accounts` and
        its own database) and on its services document. Its truth from then on: nothing."""
        closed = set()
        for reseller_id, _ in self.resellers if self.scale.close_percent else ():
            if self.random.randrange(100) >= self.scale.close_percent:
                continue
            open_ones = [
                c
                for c in self.customers.values()
                if c.reseller_id == reseller_id and not c.closed and c.account_id not in signed_up
            ]
            if not open_ones:
                continue
            customer = self.random.choice(open_ones)
            customer.closed = True
            for db in (SERVICES_DB, account_db(customer.account_id), ACCOUNTS_DB):
                self._put(
                    db, {**self.store.get(db, customer.account_id), "pvt_deleted": True, "pvt_modified": gregorian(now)}
                )
            self.counts.writes += 3
            self.counts.closes += 1
            self.history[customer.account_id].append((self._local_day(reseller_id, now), {}))
            closed.add(customer.account_id)
            happened.append(f"{customer.account_id} closes")
        return closed

    def levels(self, account_id: str) -> list[tuple[str, str, str]]:
        """Who pays a call of this account, at whose deck and in whose time zone: the customer at
        its reseller's, then each sub-reseller at its parent reseller's (a top reseller's calls
        are not rated: the master has no deck)."""
        timezones, parents = dict(self.resellers), self.reseller_parents
        payer, reseller = account_id, self.customers[account_id].reseller_id
        found = []
        while reseller in timezones:
            found.append((payer, reseller, timezones[reseller]))
            payer, reseller = reseller, parents.get(reseller, self.master_id)
        return found

    def _add_device(self, customer: Customer, now: datetime) -> bool:
        return self._write(customer, new_device(customer, now))

    def _remove_device(self, customer: Customer, now: datetime) -> bool:
        return bool(customer.devices) and self._delete(customer, customer.devices.pop(0), now)

    def _add_user(self, customer: Customer, now: datetime) -> bool:
        return self._write(customer, new_user(customer, "user", now))

    def _remove_user(self, customer: Customer, now: datetime) -> bool:
        return len(customer.users) > 1 and self._delete(customer, customer.users.pop(), now)

    def _add_number(self, customer: Customer, now: datetime) -> bool:
        return self._numbers(customer, customer.numbers + 1, now)

    def _remove_number(self, customer: Customer, now: datetime) -> bool:
        return customer.numbers > 0 and self._numbers(customer, customer.numbers - 1, now)

    def _trunks(self, customer: Customer, now: datetime) -> bool:
        db = account_db(customer.account_id)
        limits = self.store.get(db, "limits")
        trunks = max(0, limits.get("twoway_trunks", 0) + self.random.choice((-1, 1)))
        return self._write(customer, {**limits, "twoway_trunks": trunks, "pvt_modified": gregorian(now)})

    def _payment(self, customer: Customer, now: datetime) -> bool:
        currency = self.store.get(account_db(customer.reseller_id), "onbill")["currency"]
        amount = (1 + self.random.randrange(100)) * {"RUB": 100_0000}.get(currency, 1_0000)
        apply_payment(
            self.ports,
            customer.account_id,
            amount=amount,
            reason="wire_transfer",
            external_id=f"{customer.account_id}-{now:%Y%m%d}",
            by="simulator",
        )
        self.counts.payments += 1
        return True

    def _numbers(self, customer: Customer, count: int, now: datetime) -> bool:
        db, index = account_db(customer.account_id), customer.index
        doc = {key: value for key, value in self.store.get(db, "phone_numbers").items() if not key.startswith("+")}
        doc.update({number(index, k): {"state": "in_service", "features": []} for k in range(count)})
        customer.numbers = count
        return self._write(customer, {**doc, "pvt_modified": gregorian(now)})

    def _delete(self, customer: Customer, doc_id: str, now: datetime) -> bool:
        db = account_db(customer.account_id)
        # As Kazoo's crossbar deletes: the flag, and the moment in pvt_modified.
        return self._write(
            customer, {**self.store.get(db, doc_id), "pvt_deleted": True, "pvt_modified": gregorian(now)}
        )

    def _write(self, customer: Customer, doc: dict[str, Any]) -> bool:
        self._put(account_db(customer.account_id), doc)
        self.counts.writes += 1
        return True

    def _put(self, db: str, doc: dict[str, Any]) -> None:
        written = self.store.put(db, doc)
        if self.bus is not None:
            self.bus.document_written(db, doc, written.rev)

    def _bulk_put(self, db: str, docs: list[dict[str, Any]]) -> None:
        for doc, written in zip(docs, self.store.bulk_put(db, docs), strict=True):
            if written.error:
                raise RuntimeError(f"the simulator's own write of {db}/{doc['_id']} failed: {written.error}")
            if self.bus is not None:
                self.bus.document_written(db, doc, written.rev)

    # ------------------------------------------------------------------ the truth
    def _local_day(self, reseller_id: str, moment: datetime) -> date:
        tz = dict(self.resellers).get(reseller_id, "UTC")
        return moment.astimezone(ZoneInfo(tz)).date()

    def _remember(self, account_id: str, day: date) -> None:
        """The account's quantities as its documents now say. Every step is kept, several a day
        in order (the seeded tree and the first afternoon's change share a day): what a day's
        steps passed through was charged, not only where the day ended."""
        self.history.setdefault(account_id, []).append((day, settled_quantities(self.store, account_id)))


def utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
