"""What a billing pass asks the store for, request by request: documents the pass reads one by
one out of its period's monthly database are fetched together (steps._prefetch_period_month), a
request saved each on CouchDB, where an opening costs about twenty."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_months import rollover_id
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from testkit.fixtures.api_world import MSK
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration


class ReadsNamed:
    """The store, noting the documents each read asks for and the views each query asks (not
    `backing`: a pass would unwrap it)."""

    def __init__(self, inner):
        self.inner, self.asked, self.views = inner, [], []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get(self, db, doc_id):
        self.asked.append((db, {doc_id}))
        return self.inner.get(db, doc_id)

    def get_many(self, db, doc_ids):
        doc_ids = list(doc_ids)
        self.asked.append((db, set(doc_ids)))
        return self.inner.get_many(db, doc_ids)

    def query_view(self, db, design, view, query=None):
        self.views.append((db, view))
        return self.inner.query_view(db, design, view, *([query] if query is not None else []))


def test_an_opening_reads_its_marker_crawl_log_and_rollover_in_one_request(store):
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "C", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    clock = SettableClock(datetime(2026, 11, 29, 12, 0, tzinfo=MSK))
    crawl_account_day(BillingPorts(store, clock, world.design_docs), customer, date(2026, 11, 29))
    assert store.database_exists(account_modb(customer, 2026, 12))  # made ahead, as from every 28th
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=MSK))
    reads = ReadsNamed(store)
    events = crawl_account_day(BillingPorts(reads, clock, world.design_docs), customer, date(2026, 12, 1))
    assert any(event.name == "charged" for event in events)  # the period opened
    wanted = {"202612-kazbill-period-20261201", "202612-kazbill-crawl-log", rollover_id((2026, 12))}
    december = account_modb(customer, 2026, 12)
    naming = [ids for db, ids in reads.asked if db == december and ids & wanted]
    assert naming and wanted <= naming[0]  # the first read of any of them reads all three
    assert len(naming) <= 2  # and each is read again at most once, after the pass wrote it
