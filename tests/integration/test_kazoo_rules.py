"""Kazbill against Kazoo 4.3's own balance rules (testkit/support/kazoo_rules.py, written from
Kazoo's source): across a month end, for resellers at UTC-5, UTC, UTC+3 and UTC+10, with the
daily crawl, payments, calls and jonny5's debits landing in the last and first hour of the month,
and Kazoo's own rollover task at 00:00 UTC, the balance Kazoo computes equals Kazbill's at every
step, on both stores, and nothing written is lost from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.postings import apply_payment
from bookkeeper.services.rating.call_rating import bill_call
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.billing_world import World
from testkit.support.kazoo_rules import jonny5_debit, kazoo_balance, kazoo_rollover_task
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN

pytestmark = pytest.mark.integration
UTC = UTC
ZONES = ["America/New_York", "UTC", "Europe/Moscow", "Australia/Brisbane"]


def gregorian(moment: datetime) -> int:
    return to_gregorian_seconds(int(moment.timestamp()))


class Month:
    """One customer of a reseller in `zone`, and a clock that moves forward only."""

    def __init__(self, store, zone: str):
        self.store, self.tz = store, ZoneInfo(zone)
        onbill = {
            "currency": "USD",
            "timezone": zone,
            "locale": "en_US",
            "default_service_plan": "plan_office",
            "default_rate_deck": "calls",
        }
        self.world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
        self.customer = self.world.customer(
            "Edge Co", created=datetime(2026, 9, 10, tzinfo=UTC), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
        )
        assert import_rate_deck(
            store, self.world.reseller, "calls", ["prefix,rate_cost,rate_increment,rate_minimum", "1,0.10,60,60"]
        ).report.ok
        self.clock = SettableClock(datetime(2026, 11, 27, tzinfo=UTC))
        self.ports = BillingPorts(store, self.clock, self.world.design_docs)
        self.book = LedgerBook(store, self.world.design_docs)
        self.checks = 0

    def at(self, moment: datetime) -> None:
        assert moment >= self.clock.now()
        self.clock.set(moment)

    def agree(self) -> int:
        """Kazoo's balance now, which must be Kazbill's."""
        now = self.clock.now()
        kazoo = kazoo_balance(self.store, self.customer, now)
        assert LedgerBook(self.store, self.world.design_docs).current_balance(self.customer, gregorian(now)) == kazoo, (
            now
        )
        self.checks += 1
        return kazoo

    def crawl(self, day: date) -> None:
        self.at(datetime(day.year, day.month, day.day, 0, 5, tzinfo=self.tz))
        crawl_account_day(self.ports, self.customer, day)
        self.agree()

    def pay(self, moment: datetime, amount: int, reference: str) -> None:
        self.at(moment)
        apply_payment(self.ports, self.customer, amount=amount, reason="wire_transfer", external_id=reference)
        self.agree()

    def call(self, moment: datetime, call_id: str) -> None:
        self.at(moment)
        bill_call(
            self.ports, FinishedCall(self.customer, call_id, 90, "15551234567", "outbound", True, gregorian(moment))
        )
        self.agree()

    def jonny5(self, moment: datetime, call_id: str) -> None:
        self.at(moment)
        jonny5_debit(self.store, self.customer, call_id, 7_000, moment)
        self.agree()

    def everything_written(self) -> int:
        """Every ledger entry ever written, rollovers aside: what the balance must add up to."""
        total = 0
        for month in ((2026, 9), (2026, 10), (2026, 11), (2026, 12)):
            db = account_modb(self.customer, *month)
            if self.store.database_exists(db):
                for row in self.store.all_docs(db, ViewQuery(include_docs=True)).rows:
                    doc = row.doc or {}
                    if (
                        doc.get("pvt_type") == "ledger"
                        and not doc.get("pvt_deleted")
                        and doc["source"]["service"] != "rollovers"
                    ):
                        total += -doc["amount"] if doc["pvt_ledger_type"] == "debit" else doc["amount"]
        return total


@pytest.mark.parametrize("zone", ZONES)
def test_kazoos_balance_equals_kazbills_across_a_month_end(store, zone):
    month = Month(store, zone)
    local_midnight = datetime(2026, 12, 1, tzinfo=month.tz)
    utc_midnight = datetime(2026, 12, 1, tzinfo=UTC)
    events = [  # (moment, what happens)
        *[(datetime(2026, 11, day, 0, 5, tzinfo=month.tz), ("crawl", date(2026, 11, day))) for day in (28, 29, 30)],
        (datetime(2026, 12, 1, 0, 5, tzinfo=month.tz), ("crawl", date(2026, 12, 1))),
        (datetime(2026, 12, 2, 0, 5, tzinfo=month.tz), ("crawl", date(2026, 12, 2))),
        (utc_midnight - timedelta(minutes=40), ("pay", "wire-utc-last-hour")),
        (utc_midnight - timedelta(minutes=20), ("call", "call-utc-last-hour")),
        (utc_midnight - timedelta(minutes=5), ("jonny5", "j5-utc-last-hour")),
        (utc_midnight, ("kazoo_rollover", None)),
        (utc_midnight + timedelta(minutes=10), ("jonny5", "j5-utc-first-hour")),
        (utc_midnight + timedelta(minutes=20), ("pay", "wire-utc-first-hour")),
        (utc_midnight + timedelta(minutes=30), ("call", "call-utc-first-hour")),
        (local_midnight - timedelta(minutes=30), ("pay", "wire-local-last-hour")),
        (local_midnight - timedelta(minutes=15), ("call", "call-local-last-hour")),
        (local_midnight + timedelta(minutes=30), ("pay", "wire-local-first-hour")),
        (local_midnight + timedelta(minutes=45), ("call", "call-local-first-hour")),
    ]
    month.at(datetime(2026, 11, 27, tzinfo=UTC))
    for moment, (kind, what) in sorted(events, key=lambda event: event[0]):
        if kind == "crawl":
            month.crawl(what)
        elif kind == "pay":
            month.pay(moment, 1_000_000, what)
        elif kind == "call":
            month.call(moment, what)
        elif kind == "jonny5":
            month.jonny5(moment, what)
        else:
            month.at(moment)
            kazoo_rollover_task(store, month.customer, moment)
            month.agree()
    month.at(datetime(2026, 12, 3, tzinfo=UTC))
    assert month.agree() == month.everything_written()  # nothing lost, nothing counted twice
    assert month.checks >= 15


def test_a_kazoo_rollover_made_before_kazbills_last_write_of_the_month_is_kept_and_made_whole(store):
    """Kazoo's task rolls December over at 00:00:00 UTC while Kazbill, its clock a second behind,
    still writes a payment into November: the rollover Kazoo made is kept, and the payment is
    carried into December, so both balances count it."""
    month = Month(store, "UTC")
    month.crawl(date(2026, 11, 30))
    kazoo_rollover_task(store, month.customer, datetime(2026, 12, 1, tzinfo=UTC))
    rollover = store.get(account_modb(month.customer, 2026, 12), "202612-ledgers_monthly_rollover")
    month.pay(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), 2_000_000, "wire-behind")
    month.at(datetime(2026, 12, 1, 0, 1, tzinfo=UTC))
    assert month.agree() == month.everything_written()
    assert (
        store.get(account_modb(month.customer, 2026, 12), "202612-ledgers_monthly_rollover")["_rev"] == rollover["_rev"]
    )


def test_every_ledger_document_kazbill_writes_is_listed_by_kazoos_summary(store):
    """Kazoo's summary_by_account view reads doc.account.id and doc.period.start of every ledger."""
    month = Month(store, "Europe/Moscow")
    month.crawl(date(2026, 11, 30))
    month.pay(datetime(2026, 11, 30, 12, tzinfo=UTC), 500_000, "wire-summary")
    month.call(datetime(2026, 11, 30, 13, tzinfo=UTC), "call-summary")
    month.crawl(date(2026, 12, 1))
    month.at(datetime(2026, 12, 1, 6, tzinfo=UTC))
    month.agree()
    for db in (account_modb(month.customer, 2026, 11), account_modb(month.customer, 2026, 12)):
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows:
            doc = row.doc or {}
            written_by_kazbill = (
                "kazbill" in (doc.get("metadata") or {}) or (doc.get("executor") or {}).get("module") == "kazbill"
            )
            if doc.get("pvt_type") == "ledger" and written_by_kazbill:
                assert doc["account"]["id"] == month.customer, doc["_id"]
                assert isinstance(doc["period"]["start"], int) and isinstance(doc["period"]["end"], int), doc["_id"]
    assert store.get(account_db(month.customer), "onbill")  # the account is still there to be read
