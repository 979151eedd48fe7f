"""Kazoo documents Kazbill writes are announced (KAZOO_INTEROP rule 3): each write once in the
outbox, with the revision it produced and the database named as Kazoo names it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, encode_db_name
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.billing.announcements import mark_published, pending_announcements
from bookkeeper.services.payments.postings import apply_payment
from testkit.fixtures.billing_world import World
from testkit.support.listed import listed
from tests.integration.test_billing_worked_examples import MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration


def test_blocking_and_unblocking_announce_each_account_document_write_once(store):
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "blocking_enabled": True}, plan=OFFICE_PLAN)
    customer = world.customer("Broke", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2)
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_account_day(ports, customer, date(2026, 11, 1))  # cannot pay its period: blocked
    crawl_account_day(ports, customer, date(2026, 11, 1))  # the same crawl again: nothing new to say

    # The bridge lists them through a view, which on a cluster may show a write a moment late.
    blocked = listed(lambda: pending_announcements(store), lambda found: len(found) >= 2)
    assert sorted((a["database"], a["doc_id"], a["doc_type"]) for a in blocked) == sorted(
        [(ACCOUNTS_DB, customer, "account"), (encode_db_name(account_db(customer)), customer, "account")]
    )
    assert {a["rev"] for a in blocked} == {
        store.get(ACCOUNTS_DB, customer)["_rev"],
        store.get(account_db(customer), customer)["_rev"],
    }
    for announcement in blocked:
        mark_published(store, announcement, 1)
    assert pending_announcements(store) == []

    apply_payment(ports, customer, amount=20_000_000, reason="wire_transfer", external_id="ref-9")  # unblocked
    lifted = listed(lambda: pending_announcements(store), lambda found: len(found) >= 2)
    assert len(lifted) == 2 and {a["rev"] for a in lifted}.isdisjoint({a["rev"] for a in blocked})
    assert store.get(ACCOUNTS_DB, customer)["pvt_enabled"] is True
