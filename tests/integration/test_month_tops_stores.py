"""A worker's kept rows of a month's transactions (crossbar_api/month_tops.py) on the stores
`kazbill api` runs on, real CouchDB 3 and its cluster included: the database's update_seq as
each server reports it after a write, and the copies a month database is made with. The logic
and its equivalence to the view query are in tests/unit/crossbar_api/test_month_tops.py."""

from __future__ import annotations

import pytest

from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.ledger_book import LedgerBook
from crossbar_api.month_tops import DESIGN, VIEW, MonthTops
from testkit.fixtures.kazoo_docs import ledger_doc, new_account_id
from testkit.support.kazbill_service import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.couchdb_cluster]  # also on a cluster, when one is available
NOW = 63_960_000_000


def test_kept_rows_answer_as_the_view_does_and_a_write_shows_at_once(store):
    account = new_account_id()
    db = LedgerBook(store, load_design_docs()).month_db(account, (2026, 12), create=True)
    assert db == account_modb(account, 2026, 12)

    def entry(n: int, created: int) -> dict:  # a Kazoo-shaped credit of this month
        return ledger_doc(account, 2026, 12, f"e{n:05d}", "credit", 100, "adjustments", created)

    store.bulk_put(db, [entry(n, NOW - n) for n in range(80)])
    tops, span = MonthTops(), (NOW, NOW - 86_400)

    def exact() -> list:
        query = ViewQuery(descending=True, start_key=span[0], end_key=span[1], limit=52)
        return [(row.key, row.id) for row in store.query_view(db, DESIGN, VIEW, query).rows]

    def kept() -> list:
        return [(row.key, row.id) for row in tops.rows(store, db, *span, 52)]

    copies = store.database_info(db).copies
    if copies not in (None, 1):
        # A cluster's copies: every read is the view query's own, which reads one copy of each
        # shard range and may lag another's write (Kazbill's own money reads allow for that:
        # ledger_readback.py). Nothing kept, so a write shows as soon as the copy read has it.
        # (the copy read may not have the 80 entries yet either: the write needed two of three)
        wait_for(lambda: len(kept()) == 52, 30, "the copy read to have the 80 entries")
        assert tops.hits == 0
        store.put(db, entry(999, NOW))
        wait_for(lambda: "202612-e00999" in [doc_id for _, doc_id in kept()], 30, "the copy read to have the write")
        assert tops.hits == 0
        return
    assert kept() == exact() and kept() == exact()
    store.put(db, entry(999, NOW))  # another worker's credit
    assert ("202612-e00999" in [doc_id for _, doc_id in kept()]) and kept() == exact()
    # One copy (a single CouchDB): answered from what was kept while unchanged; none reported
    # (the embedded store, pouchdb-server, which `kazbill api` gives no MonthTops): read every time.
    assert tops.hits == (2 if copies == 1 else 0), (copies, tops.hits)
