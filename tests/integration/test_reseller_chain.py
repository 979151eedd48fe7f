"""Each reseller level bills its own customers in its own currency, with its own plans."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db, account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.setup import store_setup
from testkit.fixtures.billing_world import gregorian
from testkit.fixtures.kazoo_docs import account_doc, new_account_id, stamp

pytestmark = pytest.mark.integration
CREATED = gregorian(datetime(2025, 6, 1))


def test_a_chain_of_three_resellers_bills_in_three_currencies(store):
    design_docs = load_design_docs()
    store_setup.initialise(store, design_docs)
    master, top, sub, customer = (new_account_id() for _ in range(4))
    levels = {  # account: (its pvt_tree, whether it is a reseller)
        top: ([master], True),
        sub: ([master, top], True),
        customer: ([master, top, sub], False),
    }
    for account_id in (master, top, sub, customer):
        db = account_db(account_id)
        store.ensure_database(db)
        store_setup.install_design_docs(store, db, design_docs)
    store.put(ACCOUNTS_DB, account_doc(master, "Master", [], pvt_created=CREATED))
    for account_id, (tree, reseller) in levels.items():
        store.put(
            ACCOUNTS_DB, account_doc(account_id, f"Level {len(tree)}", tree, reseller=reseller, pvt_created=CREATED)
        )
        store.put(SERVICES_DB, {"_id": account_id, "pvt_type": "service", "pvt_reseller": reseller, "pvt_tree": tree})
        store.bulk_put(
            account_db(account_id),
            [
                stamp(
                    {"_id": "limits", "pvt_allow_postpay": True, "pvt_max_postpay_amount": 10**12},
                    account_id,
                    "limits",
                    created=CREATED,
                ),
                stamp(
                    {"_id": "device00000000000000000000000001", "device_type": "sip_device"},
                    account_id,
                    "device",
                    created=CREATED,
                ),
                stamp(
                    {"_id": "device00000000000000000000000002", "device_type": "sip_device"},
                    account_id,
                    "device",
                    created=CREATED,
                ),
            ],
        )
    for reseller, currency, tz_name, rate in (
        (master, "USD", "America/New_York", 20),
        (top, "EUR", "Europe/Berlin", 18),
        (sub, "RUB", "Europe/Moscow", 500),
    ):
        store.bulk_put(
            account_db(reseller),
            [
                {
                    "_id": "onbill",
                    "pvt_type": "onbill",
                    "currency": currency,
                    "timezone": tz_name,
                    "default_service_plan": "plan_phones",
                },
                {
                    "_id": "plan_phones",
                    "pvt_type": "service_plan",
                    "name": f"Phones {currency}",
                    "plan": {"devices": {"sip_device": {"rate": rate}}},
                },
            ],
        )

    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC)), design_docs)
    for account_id in (top, sub, customer, master):
        crawl_account_day(ports, account_id, date(2026, 11, 1))

    def charged(account_id):
        db = account_modb(account_id, 2026, 11)
        if not store.database_exists(db):
            return []
        return [
            (row.doc["amount"], row.doc["metadata"]["kazbill"]["currency"])
            for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
            if row.doc.get("pvt_type") == "ledger" and row.doc["source"]["service"] != "rollovers"
        ]

    assert charged(top) == [(400_000, "USD")]  # billed by the master: 2 × 20.00 USD
    assert charged(sub) == [(360_000, "EUR")]  # billed by its reseller: 2 × 18.00 EUR
    assert charged(customer) == [(10_000_000, "RUB")]  # billed by the sub-reseller: 2 × 500.00 RUB
    assert charged(master) == []  # the master is never billed
