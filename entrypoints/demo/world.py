"""The demo's world, written into a store the way Kazoo lays it out: a master account, a
reseller billing in roubles (Moscow), a sub-reseller under it billing in euros (Berlin, daily
fees for phones), and their customers with users, devices, numbers and trunks.

Ids are derived from names, so two runs of the demo produce the same ledger ids and can be
compared line by line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db, gregorian_of
from bookkeeper.ports import DocumentStore
from bookkeeper.services.setup import store_setup
from bookkeeper.services.setup.users import credentials
from entrypoints.demo.legal import BUYERS, CARRIERS, RESELLER_VAT
from entrypoints.simulation.customers import stamp

CREATED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # every seeded account exists before the month


def demo_id(name: str) -> str:
    return hashlib.md5(f"kazbill-demo:{name}".encode()).hexdigest()


def gregorian(moment: datetime) -> int:
    return gregorian_of(moment)


PLANS: dict[str, dict[str, Any]] = {
    "plan_volna_office": {
        "name": "Volna Office",
        "plan": {
            "devices": {
                "sip_device": {"name": "Desk phone", "names": {"ru": "Настольный телефон"}, "rate": 350},
                "softphone": {"name": "Softphone", "names": {"ru": "Софтфон"}, "rate": 150},
            },
            "users": {
                "user": {"name": "User", "names": {"ru": "Пользователь"}, "rate": 100},
                "admin": {"name": "Admin", "names": {"ru": "Администратор"}, "rate": 100},
            },
            "phone_numbers": {
                "did": {"name": "City number", "names": {"ru": "Городской номер"}, "rate": 250},
                "tollfree": {"name": "8-800 number", "names": {"ru": "Номер 8-800"}, "rate": 900},
            },
            "limits": {"twoway_trunks": {"name": "Two-way trunk", "names": {"ru": "Двусторонняя линия"}, "rate": 600}},
        },
    },
    # Offered by Volna beside its office plan, assigned to nobody: a reseller moves a customer to
    # it from the console (the price list changes, the month's charges follow from that day).
    "plan_volna_business": {
        "name": "Volna Business",
        "plan": {
            "devices": {
                "sip_device": {"name": "Desk phone", "names": {"ru": "Настольный телефон"}, "rate": 500},
                "softphone": {"name": "Softphone", "names": {"ru": "Софтфон"}, "rate": 250},
            },
            "users": {
                "user": {"name": "User", "names": {"ru": "Пользователь"}, "rate": 150},
                "admin": {"name": "Admin", "names": {"ru": "Администратор"}, "rate": 150},
            },
            "phone_numbers": {
                "did": {"name": "City number", "names": {"ru": "Городской номер"}, "rate": 300},
                "tollfree": {"name": "8-800 number", "names": {"ru": "Номер 8-800"}, "rate": 1200},
            },
            "limits": {"twoway_trunks": {"name": "Two-way trunk", "names": {"ru": "Двусторонняя линия"}, "rate": 800}},
        },
    },
    "plan_nordic_basic": {
        "name": "Nordic Basic",
        "plan": {
            "devices": {"sip_device": {"name": "Desk phone", "names": {"de": "Tischtelefon"}, "rate": 6}},
            "users": {
                "user": {"name": "User", "names": {"de": "Benutzer"}, "rate": 2},
                "admin": {"name": "Admin", "names": {"de": "Administrator"}, "rate": 2},
            },
            "phone_numbers": {"did": {"name": "DID", "names": {"de": "Rufnummer"}, "rate": 3}},
            "limits": {"twoway_trunks": {"name": "Trunk", "names": {"de": "Leitung"}, "rate": 12}},
        },
    },
}
RESELLERS: dict[str, dict[str, Any]] = {
    "Volna Telecom": {
        "parent": "Kazbill Demo Master",
        "currency": "RUB",
        "timezone": "Europe/Moscow",
        "locale": "ru_RU",
        "default_service_plan": "plan_volna_office",
        "plan": "plan_volna_office",
        "offers": ("plan_volna_office", "plan_volna_business"),
        "low_balance_threshold": "500.00",
        "blocking_enabled": True,
    },
    "Nordic Voice": {
        "parent": "Volna Telecom",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "locale": "en_GB",
        "default_service_plan": "plan_nordic_basic",
        "plan": "plan_nordic_basic",
        "offers": ("plan_nordic_basic",),
        "charging": {"devices": "daily"},
        "low_balance_threshold": "10.00",
    },
}


@dataclass(frozen=True)
class Customer:
    name: str
    reseller: str
    users: int
    devices: dict[str, int]
    numbers: tuple[str, ...]
    trunks: int
    credit: str  # opening wire transfer, in the reseller's currency
    language: str = "ru-RU"


DEMO_USERNAME, DEMO_PASSWORD = "admin", "demo-password"  # every demo reseller's and customer's admin
# A sub-reseller is its reseller's customer: Volna bills Nordic Voice for its admin's login, and
# Nordic Voice paid in before the month (else Volna, which blocks for lack of funds, would block
# it, and with it every customer of Nordic Voice).
RESELLER_CREDITS = {"Nordic Voice": "5000.00"}
CUSTOMERS = (
    Customer(
        "Alpha Taxi",
        "Volna Telecom",
        3,
        {"sip_device": 4, "softphone": 1},
        ("+74951230001", "+78001230002"),
        2,
        "12000.00",
    ),
    Customer("Beta Clinic", "Volna Telecom", 2, {"sip_device": 2}, ("+74951230011",), 0, "1500.00"),
    Customer("Gamma Shop", "Volna Telecom", 1, {"sip_device": 1}, (), 0, "0.00"),
    Customer("Fjord Design", "Nordic Voice", 2, {"sip_device": 3}, ("+4930123401",), 1, "150.00", "en-GB"),
    Customer(
        "Kiel Logistics", "Nordic Voice", 4, {"sip_device": 5}, ("+4930123411", "+4930123412"), 2, "90.00", "de-DE"
    ),
)


@dataclass
class DemoWorld:
    store: DocumentStore
    design_docs: list[DesignDoc]
    accounts: dict[str, str] = field(default_factory=dict)  # name → id
    trees: dict[str, list[str]] = field(default_factory=dict)
    resellers_of: dict[str, str] = field(default_factory=dict)  # customer name → reseller name
    counters: dict[str, int] = field(default_factory=dict)

    def seed(self) -> DemoWorld:
        store_setup.initialise(self.store, self.design_docs)
        self._account("Kazbill Demo Master", None, reseller=False)
        for name, spec in RESELLERS.items():
            self._account(name, spec["parent"], reseller=True)
            settings = {key: value for key, value in spec.items() if key not in ("parent", "plan", "offers")}
            settings |= {**RESELLER_VAT[name], "carriers": CARRIERS[name]}
            self.store.bulk_put(
                account_db(self.accounts[name]),
                [
                    {"_id": "onbill", "pvt_type": "onbill", **settings},
                    *({"_id": offered, "pvt_type": "service_plan", **PLANS[offered]} for offered in spec["offers"]),
                ],
            )
            # The reseller's admin logs in to the console (user "admin", the demo's password). In
            # Kazoo a reseller's admin is a user of its account like any other: a sub-reseller's
            # is billed by the reseller above it (RESELLER_CREDITS pays for it).
            self.store.put(account_db(self.accounts[name]), self.user(self.accounts[name], "admin", CREATED))
        for customer in CUSTOMERS:
            self.add_customer(customer, CREATED)
        return self

    def _account(
        self, name: str, parent: str | None, *, reseller: bool, language: str = "ru-RU", created: datetime = CREATED
    ) -> str:
        account_id = demo_id(name)
        tree = [*self.trees[parent], self.accounts[parent]] if parent else []
        self.accounts[name], self.trees[name] = account_id, tree
        db = account_db(account_id)
        if self.store.ensure_database(db):
            store_setup.install_design_docs(self.store, db, self.design_docs)
        doc = self._stamp(
            {
                "_id": account_id,
                "name": name,
                "realm": f"{account_id[:8]}.sip.demo.example",
                "pvt_tree": tree,
                "pvt_reseller": reseller,
                "pvt_enabled": True,
                "enabled": True,
                "language": language,
                "timezone": "Europe/Moscow",
            },
            account_id,
            "account",
            created,
        )
        self.store.put(ACCOUNTS_DB, doc)
        self.store.put(db, doc)  # Kazoo keeps a copy of the account document in its own database
        services = {"_id": account_id, "pvt_type": "service", "pvt_tree": tree, "pvt_reseller": reseller}
        if parent:
            services["pvt_reseller_id"] = self._reseller_above(parent)
        self.store.put(SERVICES_DB, services)
        return account_id

    @staticmethod
    def reseller_locale(reseller: str) -> str:
        return str(RESELLERS[reseller]["locale"])

    def _reseller_above(self, parent: str) -> str:
        return self.accounts[parent] if parent in RESELLERS else self.accounts["Kazbill Demo Master"]

    def add_customer(self, customer: Customer, created: datetime) -> str:
        account_id = self._account(
            customer.name, customer.reseller, reseller=False, language=customer.language, created=created
        )
        self.resellers_of[customer.name] = customer.reseller
        docs = [
            self._stamp(
                # The language documents are written in is the onbill's: Kazoo fills its account
                # document's `language` with its default, so that one says nothing about the reader.
                {"_id": "onbill", "billing_day": 1, "legal": BUYERS[customer.name], "language": customer.language},
                account_id,
                "onbill",
                created,
            ),
            self._stamp(
                {"_id": "limits", "twoway_trunks": customer.trunks, "allow_prepay": True, "pvt_allow_postpay": False},
                account_id,
                "limits",
                created,
            ),
            self._stamp(
                {
                    "_id": "phone_numbers",
                    **{n: {"state": "in_service", "features": ["local"]} for n in customer.numbers},
                },
                account_id,
                "phone_numbers",
                created,
            ),
        ]
        for n in range(customer.users):
            docs.append(self.user(account_id, "admin" if n == 0 else "user", created))
        for kind, count in customer.devices.items():
            docs += [self.device(account_id, kind, created) for _ in range(count)]
        self.store.bulk_put(account_db(account_id), docs)
        return account_id

    def user(self, account_id: str, level: str, created: datetime) -> dict[str, Any]:
        n = self._next(account_id, "user")
        # Each customer's admin can log in (the payments page, the API): as Kazoo keeps a user,
        # with the hashes of "admin:<the demo's password>".
        login = {"username": DEMO_USERNAME, **credentials(DEMO_USERNAME, DEMO_PASSWORD)} if level == "admin" else {}
        return self._stamp(
            {
                "_id": f"{account_id[:8]}user{n:020d}",
                "first_name": f"User {n}",
                "last_name": "Demo",
                "priv_level": level,
                "enabled": True,
                "email": f"user{n}@{account_id[:8]}.demo.example",
                **login,
            },
            account_id,
            "user",
            created,
        )

    def device(self, account_id: str, kind: str, created: datetime) -> dict[str, Any]:
        n = self._next(account_id, "device")
        return self._stamp(
            {"_id": f"{account_id[:8]}device{n:018d}", "name": f"Phone {n}", "device_type": kind, "enabled": True},
            account_id,
            "device",
            created,
        )

    def _next(self, account_id: str, what: str) -> int:
        key = f"{account_id}/{what}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    # Kazoo's private fields, stamped as the simulator stamps its documents (one way for both).
    _stamp = staticmethod(stamp)
