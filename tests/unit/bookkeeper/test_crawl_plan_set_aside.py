"""A services document that flags as a reseller an id that is no account's (a legacy import, a
hand edit) is set aside from the crawl with the reason, and stored once for a person; every
other reseller is crawled. Before, planning raised on it and no reseller was crawled, any day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import SERVICES_DB
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.crawl_plan import plan_crawls, record_crawl_refusals
from bookkeeper.services.setup.failures import FAILURES_DB
from testkit.fixtures.billing_world import World
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL

MSK = ZoneInfo("Europe/Moscow")


def test_a_reseller_flag_on_a_malformed_id_sets_that_one_aside_and_the_rest_are_crawled():
    store = EmbeddedStore(":memory:")
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "C", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS
    )
    store.put(SERVICES_DB, {"_id": "legacy-reseller", "pvt_type": "service", "pvt_reseller": True})

    jobs, broken = plan_crawls(store, datetime(2026, 12, 2, 0, 5, tzinfo=MSK))

    assert any(job.reseller_id == world.reseller and customer in job.account_ids for job in jobs)
    assert [(reseller, "invalid account id" in reason) for reseller, reason in broken] == [("legacy-reseller", True)]
    for _ in range(2):  # every tick sets it aside; it is stored once
        record_crawl_refusals(store, broken, 1)
    rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    [failure] = [row.doc for row in rows if row.doc and row.doc.get("pvt_type") == "failure"]
    assert (failure["source"], failure["reason_code"], failure["payload"]["reseller_id"]) == (
        "scheduler",
        "reseller_not_crawled",
        "legacy-reseller",
    )
    store.close()
