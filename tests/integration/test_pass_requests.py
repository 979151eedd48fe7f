"""What a billing pass asks the store for, request by request: documents the pass reads one by
one out of its period's monthly database are fetched together (steps._prefetch_period_month), a
request saved each on CouchDB, where an opening costs about twenty."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_months import rollover_id
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from testkit.fixtures.api_world import MSK
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
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


@pytest.mark.parametrize("daily", [False, True], ids=["monthly", "daily_phones"])
def test_an_opening_reads_its_marker_crawl_log_and_rollover_in_one_request(store, daily):
    """The crawl's log only where daily fees are charged: nothing else reads it (steps._logs_crawls)."""
    onbill = {**RESELLER_ONBILL, **({"charging": {"devices": "daily"}} if daily else {})}
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
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
    crawl_log = "202612-kazbill-crawl-log"
    wanted = {"202612-kazbill-period-20261201", rollover_id((2026, 12)), *([crawl_log] if daily else [])}
    december = account_modb(customer, 2026, 12)
    naming = [ids for db, ids in reads.asked if db == december and ids & {*wanted, crawl_log}]
    assert naming and wanted == naming[0] & {*wanted, crawl_log}  # the first read of any reads them all
    assert len(naming) <= 2  # and each is read again at most once, after the pass wrote it
    assert bool(store.get_many(december, [crawl_log])) == daily  # kept only where a daily fee reads it


def november_device_entries(store, customer):
    """The ids of the entries charging devices for the period that began on 1 November."""
    found = set()
    for month in ((2026, 11), (2026, 12)):
        for row in store.all_docs(account_modb(customer, *month), ViewQuery(include_docs=True)).rows:
            kazbill = ((row.doc or {}).get("metadata") or {}).get("kazbill") or {}
            if (kazbill.get("period") or {}).get("start") == "2026-11-01" and kazbill.get("category") == "devices":
                found.add(row.id)
    return found


def test_a_day_reads_each_month_of_its_period_entries_once_with_the_previous_period_settled(store):
    """A day's pass settles the period before (a phone added on its last evening may be seen
    only now) and goes on with the current one: both periods' entries are in the same months,
    read with one view query a month, not one per period (PassReads.rows_under); the late
    phone is charged for November once, however many days look at November again."""
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "C", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    clock = SettableClock(datetime(2026, 11, 29, 12, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    crawl_account_day(ports, customer, date(2026, 11, 29))
    before = november_device_entries(store, customer)
    late = stamp({"_id": "device-late", "device_type": "sip_device"}, customer, "device")
    store.put(account_db(customer), {**late, "pvt_created": gregorian(datetime(2026, 11, 30, 20, 0, tzinfo=MSK))})
    reads = ReadsNamed(store)  # (met before the day counted, as a running process has met its months)
    for day in (1, 2, 3, 4, 5):
        clock.set(datetime(2026, 12, day, 12, 0, tzinfo=MSK))
        reads.views.clear()
        crawl_account_day(BillingPorts(reads, clock, world.design_docs), customer, date(2026, 12, day))
    asked = [db for db, view in reads.views if view == "charges_by_period"]
    assert asked and len(asked) == len(set(asked))  # each month once, both periods' entries in it
    assert len(november_device_entries(store, customer) - before) == 1
