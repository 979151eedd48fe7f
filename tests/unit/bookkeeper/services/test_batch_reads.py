"""The passes of one batch read what they share (accounts, services, the reseller's settings and
plans) once for the batch; an account's own databases stay each pass's own."""

from __future__ import annotations

import collections

import pytest

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db, account_modb
from bookkeeper.ports import NotFound
from bookkeeper.services.billing.batch_reads import BatchReads, shared_by_the_batch
from bookkeeper.services.billing.pass_reads import PassReads

RESELLER, CUSTOMER_A, CUSTOMER_B = "1" * 32, "a" * 32, "b" * 32


class Counted:
    def __init__(self, inner):
        self._inner, self.reads = inner, collections.Counter()

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name in ("get", "get_many"):

            def counted(db, *args, **kwargs):
                self.reads[(name, db)] += 1
                return attr(db, *args, **kwargs)

            return counted
        return attr


@pytest.fixture
def counted(store):
    for db in (ACCOUNTS_DB, SERVICES_DB, *(account_db(a) for a in (RESELLER, CUSTOMER_A, CUSTOMER_B))):
        store.create_database(db)
    store.bulk_put(
        ACCOUNTS_DB,
        [{"_id": RESELLER, "pvt_tree": []}, *({"_id": a, "pvt_tree": [RESELLER]} for a in (CUSTOMER_A, CUSTOMER_B))],
    )
    store.bulk_put(SERVICES_DB, [{"_id": a, "pvt_reseller_id": RESELLER} for a in (CUSTOMER_A, CUSTOMER_B)])
    store.bulk_put(account_db(RESELLER), [{"_id": "onbill", "currency": "RUB"}, {"_id": "plan_pbx", "plan": {}}])
    for customer in (CUSTOMER_A, CUSTOMER_B):
        store.put(account_db(customer), {"_id": "onbill", "billing_day": 1})
    return Counted(store)


def test_what_is_shared_is_accounts_services_and_other_accounts_own_databases():
    assert shared_by_the_batch(ACCOUNTS_DB, CUSTOMER_A) and shared_by_the_batch(SERVICES_DB, CUSTOMER_A)
    assert shared_by_the_batch(account_db(RESELLER), CUSTOMER_A)
    assert not shared_by_the_batch(account_db(CUSTOMER_A), CUSTOMER_A)
    assert not shared_by_the_batch(account_modb(RESELLER, 2026, 11), CUSTOMER_A)  # months: never
    assert not shared_by_the_batch("kazbill_notices", CUSTOMER_A)


def test_the_batch_reads_its_accounts_trees_and_the_resellers_settings_once(counted):
    batch = BatchReads(counted)
    batch.prefetch_accounts([CUSTOMER_A, CUSTOMER_B])
    assert sum(counted.reads.values()) == 3  # the accounts, their ancestors, the services documents
    for customer in (CUSTOMER_A, CUSTOMER_B):
        reads = PassReads(counted, batch=batch, account_id=customer)
        assert reads.get(ACCOUNTS_DB, customer)["pvt_tree"] == [RESELLER]
        assert reads.get(ACCOUNTS_DB, RESELLER)["_id"] == RESELLER
        assert reads.get_many(SERVICES_DB, [RESELLER, customer]).keys() == {customer}
        assert reads.get(account_db(RESELLER), "onbill")["currency"] == "RUB"
        assert reads.get(account_db(RESELLER), "plan_pbx")["plan"] == {}
        with pytest.raises(NotFound):
            reads.get(account_db(RESELLER), "no_such_plan")
        assert reads.get(account_db(customer), "onbill")["billing_day"] == 1  # its own: read by the pass
    reseller_reads = sum(n for (_, db), n in counted.reads.items() if db == account_db(RESELLER))
    assert reseller_reads == 3  # onbill, the plan, the missing plan: once each for both passes
    assert counted.reads[("get", account_db(CUSTOMER_A))] == 1 and counted.reads[("get", account_db(CUSTOMER_B))] == 1
    assert sum(n for (_, db), n in counted.reads.items() if db in (ACCOUNTS_DB, SERVICES_DB)) == 3


def test_a_write_by_one_pass_is_read_afresh_by_the_next(counted):
    """The reseller is billed in the same batch as its customer and fixes its own billing day:
    the customer's pass after it reads the reseller's onbill as written, not as the batch first saw it."""
    batch = BatchReads(counted)
    customer = PassReads(counted, batch=batch, account_id=CUSTOMER_A)
    assert "billing_day" not in customer.get(account_db(RESELLER), "onbill")
    reseller = PassReads(counted, batch=batch, account_id=RESELLER)
    onbill = reseller.get(account_db(RESELLER), "onbill")
    reseller.put(account_db(RESELLER), {**onbill, "billing_day": 5})
    later = PassReads(counted, batch=batch, account_id=CUSTOMER_B)
    assert later.get(account_db(RESELLER), "onbill")["billing_day"] == 5


def test_what_a_pass_is_handed_is_its_own_copy(counted):
    batch = BatchReads(counted)
    first = PassReads(counted, batch=batch, account_id=CUSTOMER_A).get(account_db(RESELLER), "onbill")
    first["currency"] = "EUR"
    assert (
        PassReads(counted, batch=batch, account_id=CUSTOMER_B).get(account_db(RESELLER), "onbill")["currency"] == "RUB"
    )
