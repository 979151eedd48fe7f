"""A Kazoo cluster under load: a new account's document taken by one copy of three (its write
answered 202) while its event has already come. Every quorum read misses it for a moment; billing
must ask every copy before it calls the account unknown, a failure that waits for a person. On
the session's CouchDB behind a proxy that plays those copies (testkit/support/lagging_quorum_proxy.py);
on the 3-node cluster CI saw it under load (test_simulated_bus, `unknown account`)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.billing.context import load_context
from bookkeeper.services.billing.pass_reads import PassReads
from testkit.fixtures.billing_world import World
from testkit.support.lagging_quorum_proxy import LaggingQuorumProxy
from tests.integration.conftest import CleaningStore
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

pytestmark = pytest.mark.integration


def test_a_sign_up_only_one_copy_took_is_billed_not_called_unknown(couch_url):
    store = CleaningStore(CouchDbStore(couch_url))
    try:
        world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
        customer = world.customer(
            "New", created=datetime(2026, 3, 2, 9, 0, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
        )
        with LaggingQuorumProxy(couch_url, chosen=customer) as proxy:
            lagging = CouchDbStore(proxy.url)
            assert load_context(lagging, customer).account_id == customer
            reads = PassReads(lagging)  # as a billing pass reads: what every copy gave is kept for the pass
            assert load_context(reads, customer).account_id == customer
            assert reads.get(ACCOUNTS_DB, customer)["name"] == "New"
            ports = BillingPorts(lagging, SettableClock(datetime(2026, 3, 2, 14, 0, tzinfo=MSK)), world.design_docs)
            events = reconcile_account(ports, customer)
            lagging.close()
        assert proxy.missed and proxy.asked_every_copy  # the quorum missed it; every copy was asked
        assert "billing_failed" not in [event.name for event in events]
        assert kazbill_entries(store, customer, [(2026, 3)])  # its first charges
    finally:
        store.cleanup()
