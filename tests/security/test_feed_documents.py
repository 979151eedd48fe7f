"""Bad documents arriving through the cluster's feeds (the changes feed and the configuration
exchange both end in the bookkeeper's pass over the account): each is refused with the field
named, stored for a person, and changes nothing in the ledger; the account bills again as soon
as the document is mended. Both stores.

The other entrances are covered where they live: the API's bodies (tests/unit/crossbar_api:
400 naming the field, 256 KiB cap), the payment hooks (tests/integration/test_payment_hooks.py:
forged, replayed, tampered, misdirected, oversized), AMQP messages (tests/integration/
test_amqp_config_bridge.py and tests/unit/actors/test_kazoo_messages.py: malformed, mismatched,
over 1 MiB), and here the schemathesis run and the tenant matrix."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration

BAD_DOCUMENTS = [
    # (document id, the bad document's body, the field the failure names)
    ("device-list-type", {"pvt_type": "device", "device_type": ["sip_device"], "enabled": True}, "quantities.devices"),
    ("limits", {"pvt_type": "limits", "twoway_trunks": 10**30, **GENEROUS}, "quantities.limits.twoway_trunks"),
    (
        "limits",
        {"pvt_type": "limits", "twoway_trunks": 1, "pvt_allow_postpay": True, "pvt_max_postpay_amount": "lots"},
        "limits.pvt_max_postpay_amount",
    ),
    ("user-object-level", {"pvt_type": "user", "priv_level": {"admin": True}, "enabled": True}, "quantities.users"),
]


def ledger(store, account_id: str) -> dict:
    db = account_modb(account_id, 2026, 11)
    return {
        row.id: row.doc.get("amount")
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
        if row.doc and row.doc.get("pvt_type") == "ledger"
    }


def failures(store, account_id: str) -> list[dict]:
    rows = store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[account_id], end_key=[account_id, {}], include_docs=True),
    ).rows
    return [row.doc for row in rows]


@pytest.mark.parametrize("doc_id, body, field", BAD_DOCUMENTS, ids=[field for _, _, field in BAD_DOCUMENTS])
def test_a_document_no_one_can_bill_by_is_refused_named_stored_and_changes_nothing(store, doc_id, body, field):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Xi Studio", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 2, 12, 0, tzinfo=MSK)), world.design_docs)
    reconcile_account(ports, customer)
    before = ledger(store, customer)
    db = account_db(customer)
    previous = store.get_many(db, [doc_id]).get(doc_id)
    store.put(
        db,
        {
            **stamp({"_id": doc_id, **body}, customer, body["pvt_type"]),
            **({"_rev": previous["_rev"]} if previous else {}),
        },
    )
    events = reconcile_account(ports, customer)
    assert [(e.name, e.details["field"]) for e in events] == [("billing_failed", field)]
    assert ledger(store, customer) == before
    stored = failures(store, customer)
    assert [(f["source"], f["reason_code"], f["field"]) for f in stored] == [("bookkeeper", "bad_billing_input", field)]
    # Mended (the bad document deleted, or the old one back), the account bills again.
    current = store.get(db, doc_id)
    store.put(db, {**previous, "_rev": current["_rev"]} if previous else {**current, "pvt_deleted": True})
    assert "billing_failed" not in [e.name for e in reconcile_account(ports, customer)]


def test_an_oversized_document_from_the_feed_is_counted_once_and_copied_nowhere(store):
    # A device whose name and extra fields weigh 2 MB (Kazoo stores what its API was sent, up to
    # CouchDB's 8 MB default): it is one more phone, and none of its bulk reaches the ledger.
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Heavy", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 2, 12, 0, tzinfo=MSK)), world.design_docs)
    reconcile_account(ports, customer)
    heavy = stamp(
        {
            "_id": "device-heavy",
            "name": "x" * 1_000_000,
            "device_type": "sip_device",
            "enabled": True,
            "custom_sip_headers": {f"X-{n}": "y" * 1000 for n in range(1000)},
        },
        customer,
        "device",
        created=gregorian(datetime(2026, 11, 2, 11, 0, tzinfo=MSK)),
    )
    store.put(account_db(customer), heavy)
    events = reconcile_account(ports, customer)
    charged = [e.details for e in events if e.name == "charged"]
    assert [(c["quantity"], c["amount"]) for c in charged] == [(2, 4_833_333)]  # 500.00 × 29/30 days
    db = account_modb(customer, 2026, 11)
    sizes = [len(json.dumps(row.doc)) for row in store.all_docs(db, ViewQuery(include_docs=True)).rows]
    assert max(sizes) < 8_192
    assert failures(store, customer) == []
