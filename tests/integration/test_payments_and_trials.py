"""Payments, manual corrections and trials through the bookkeeper's handlers, on both stores."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import Conflict
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.postings import (
    PaymentError,
    PostingRefused,
    apply_payment,
    delete_manual_entry,
    manual_debit,
)
from testkit.fixtures.billing_world import World, gregorian
from tests.integration.test_billing_worked_examples import (
    MSK,
    OFFICE_PLAN,
    RESELLER_ONBILL,
    kazbill_entries,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def world(store):
    return World(store).build(reseller_onbill={**RESELLER_ONBILL, "blocking_enabled": True}, plan=OFFICE_PLAN)


def balance(world, account_id, month=(2026, 11)):
    return LedgerBook(world.store, world.design_docs).balance(account_id, month, 0)


def test_a_payment_is_credited_once_however_often_it_is_notified(world):
    customer = world.customer("Alpha Taxi", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1})
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs)
    events = apply_payment(ports, customer, amount=10_000_000, reason="paypal", external_id="7TX19-ABC")
    assert events[0].name == "posted" and events[0].details["entry_id"] == "202611-kazbill-paypal-7TX19-ABC"
    again = apply_payment(ports, customer, amount=10_000_000, reason="paypal", external_id="7TX19-ABC")
    assert [e.name for e in again] == ["posting_duplicate"]
    ports.clock.set(datetime(2027, 2, 1, 12, 0, tzinfo=MSK))  # the gateway retries months later
    assert [
        e.name for e in apply_payment(ports, customer, amount=10_000_000, reason="paypal", external_id="7TX19-ABC")
    ] == ["posting_duplicate"]
    assert balance(world, customer) == 10_000_000


class StandingRace:
    """The store as a payment posted by the API sees it while a shard's pass re-evaluates the
    same account: the shard's verdict (an older one) lands between our read and our write."""

    def __init__(self, store):
        self._store, self.raced = store, False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put(self, db, doc, *args, **kwargs):
        if doc["_id"] == "kazbill_standing" and not self.raced:
            self.raced = True
            self._store.put(db, {**doc, "status": "delinquent", "blocked": False, "reasons": ["balance_below_floor"]})
            raise Conflict(db, doc["_id"])
        return self._store.put(db, doc, *args, **kwargs)


def test_a_payment_meeting_a_concurrent_standing_update_decides_on_it(world):
    customer = world.customer("Delta Cargo", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1})
    racing = StandingRace(world.store)
    ports = BillingPorts(racing, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs)
    events = apply_payment(ports, customer, amount=1_000_000, reason="wire_transfer", external_id="bank-ref-9")
    assert racing.raced
    assert [e.name for e in events] == ["posted", "period_opened", "restored_good_standing"]  # on the shard's verdict
    standing = world.store.get(account_db(customer), "kazbill_standing")
    assert standing["status"] == "good_standing" and balance(world, customer) == 1_000_000


def test_a_payment_opens_a_pending_period_and_lifts_the_automatic_block(world):
    customer = world.customer(
        "Gamma Shop", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    first = crawl_account_day(ports, customer, date(2026, 11, 1))
    assert [e.name for e in first] == ["period_pending", "became_delinquent", "blocked"]
    assert world.store.get(ACCOUNTS_DB, customer)["pvt_enabled"] is False  # Kazoo refuses its calls now
    assert world.store.get(account_db(customer), customer)["pvt_enabled"] is False
    clock.set(datetime(2026, 11, 3, 10, 0, tzinfo=MSK))
    paid = apply_payment(
        ports, customer, amount=15_000_000, reason="wire_transfer", external_id="bank-ref-881", by="reseller-admin"
    )
    assert [e.name for e in paid] == ["posted", "charged", "period_opened", "restored_good_standing", "unblocked"]
    assert kazbill_entries(world.store, customer, [(2026, 11)]) == {
        "202611-kazbill-wire_transfer-bank-ref-881": ("credit", 15_000_000),
        "202611-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 10_000_000),
    }
    assert balance(world, customer) == 5_000_000
    assert world.store.get(ACCOUNTS_DB, customer)["pvt_enabled"] is True
    assert "pvt_kazbill_blocked" not in world.store.get(ACCOUNTS_DB, customer)


def test_a_new_account_paying_after_its_first_opening_went_pending_is_still_prorated(world):
    # Joined 20 November (MSK) with two desk phones (1,000.00 RUB a month) and no money: the
    # opening goes pending. Paid on the 22nd: the 9 days left (22-30), not the month: 9 days of
    # 333.3333 (the 10 units of remainder belong to the month's first ten days), 299.9997.
    customer = world.customer(
        "Epsilon Post", created=datetime(2026, 11, 20, 11, 0, tzinfo=MSK), onbill={"billing_day": 1}, devices=2
    )
    clock = SettableClock(datetime(2026, 11, 20, 11, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    assert "period_pending" in [e.name for e in crawl_account_day(ports, customer, date(2026, 11, 20))]
    clock.set(datetime(2026, 11, 22, 9, 0, tzinfo=MSK))
    paid = apply_payment(ports, customer, amount=5_000_000, reason="wire_transfer", external_id="bank-ref-12")
    assert "period_opened" in [e.name for e in paid]
    assert kazbill_entries(world.store, customer, [(2026, 11)]) == {
        "202611-kazbill-wire_transfer-bank-ref-12": ("credit", 5_000_000),
        "202611-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 2_999_997),
    }


def test_only_manual_entries_may_be_deleted_and_the_deletion_is_an_entry_of_its_own(world):
    customer = world.customer("Beta Clinic", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1})
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs)
    apply_payment(ports, customer, amount=5_000_000, reason="manual_addition", external_id="fix-1", by="ops")
    manual_debit(ports, customer, amount=1_000_000, external_id="fix-2", by="ops")
    apply_payment(ports, customer, amount=2_000_000, reason="paypal", external_id="PP-1")
    assert balance(world, customer) == 6_000_000
    events = delete_manual_entry(ports, customer, "202611-kazbill-manual_addition-fix-1", by="ops")
    assert events[0].details["ledger_type"] == "debit" and events[0].details["amount"] == 5_000_000
    assert balance(world, customer) == 1_000_000
    assert [e.name for e in delete_manual_entry(ports, customer, "202611-kazbill-manual_addition-fix-1", by="ops")] == [
        "posting_duplicate"
    ]
    with pytest.raises(PaymentError, match="only manual entries"):
        delete_manual_entry(ports, customer, "202611-kazbill-paypal-PP-1", by="ops")
    with pytest.raises(PaymentError, match="not a manual entry"):
        delete_manual_entry(ports, customer, "202611-kazbill-mrc-20261101-devices-sip_device-q2", by="ops")
    assert balance(world, customer) == 1_000_000


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"reason": "monthly_recurring"}, "reason"),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_a_bad_posting_is_refused_naming_the_field_and_writes_nothing(world, kwargs, field):
    customer = world.customer("Eta Cafe", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1})
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs)
    arguments = {"amount": 1_000, "reason": "paypal", "external_id": "X-1", **kwargs}
    with pytest.raises(PaymentError) as refused:
        apply_payment(ports, customer, **arguments)
    assert refused.value.field == field
    assert kazbill_entries(world.store, customer, [(2026, 11)]) == {}


def test_a_payment_to_an_unknown_account_is_refused_and_recorded(world):
    ports = BillingPorts(world.store, SettableClock(datetime(2026, 11, 3, 12, 0, tzinfo=MSK)), world.design_docs)
    with pytest.raises(PostingRefused) as refused:
        apply_payment(ports, "f" * 32, amount=1_000, reason="paypal", external_id="X-9")
    assert refused.value.field == "account"


def test_a_trial_is_not_charged_and_converts_when_a_payment_covers_a_month(world):
    customer = world.customer("Theta Lab", created=datetime(2026, 11, 2, tzinfo=MSK), onbill={}, devices=2)
    for db in (ACCOUNTS_DB,):
        doc = world.store.get(db, customer)
        world.store.put(db, {**doc, "pvt_trial_expires": gregorian(datetime(2026, 11, 30, 12, tzinfo=MSK))})
    clock = SettableClock(datetime(2026, 11, 5, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    assert crawl_account_day(ports, customer, date(2026, 11, 5)) == []
    clock.set(datetime(2026, 11, 9, 15, 0, tzinfo=MSK))
    events = apply_payment(ports, customer, amount=12_000_000, reason="yandex_money", external_id="op-77")
    assert [e.name for e in events] == ["posted", "trial_converted", "charged", "period_opened"]
    assert events[1].details == {"billing_day": 9}
    assert "pvt_trial_expires" not in world.store.get(ACCOUNTS_DB, customer)
    assert world.store.get(account_db(customer), "onbill")["billing_day"] == 9
    assert kazbill_entries(world.store, customer, [(2026, 11)])[
        "202611-kazbill-mrc-20261109-devices-sip_device-q2"
    ] == ("debit", 10_000_000)


def test_an_expired_trial_is_told_once_loses_its_trunks_and_is_delinquent(world):
    customer = world.customer(
        "Iota Bar", created=datetime(2026, 11, 2, tzinfo=MSK), onbill={}, limits={"twoway_trunks": 2}, devices=1
    )
    doc = world.store.get(ACCOUNTS_DB, customer)
    world.store.put(ACCOUNTS_DB, {**doc, "pvt_trial_expires": gregorian(datetime(2026, 11, 10, 12, tzinfo=MSK))})
    clock = SettableClock(datetime(2026, 11, 11, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    events = crawl_account_day(ports, customer, date(2026, 11, 11))
    assert [e.name for e in events][:2] == ["trial_expired", "services_cancelled"]
    assert "became_delinquent" in [e.name for e in events]
    assert world.store.get(account_db(customer), "limits")["twoway_trunks"] == 0
    clock.set(datetime(2026, 11, 12, 0, 5, tzinfo=MSK))
    assert "trial_expired" not in [e.name for e in crawl_account_day(ports, customer, date(2026, 11, 12))]
