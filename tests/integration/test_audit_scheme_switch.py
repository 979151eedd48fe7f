"""The audit of a period during which its reseller switched a category between monthly and
daily: billing charges the period the way it began to (ledger.period_schemes), and the audit
expects the same, so the ledger billing wrote audits clean; what the switch would double or
drop is still named. Before, the audit priced every day the reseller's way of today."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.audit.charges import audit_account
from tests.integration.test_billing_worked_examples import DAILY_PHONES, MSK, RESELLER_ONBILL, one_customer
from tests.integration.test_missed_daily_fees import (
    DECEMBER,
    crawl_days,
    days_of,
    phones_added,
    switch_charging,
    switched_to_daily_on_the_10th,
    switched_to_monthly_on_the_10th,
)

pytestmark = pytest.mark.integration


def test_a_switch_to_daily_mid_period_audits_clean(store):
    customer, ports = switched_to_daily_on_the_10th(store, "Chi Cafe", until=date(2027, 1, 3))
    report = audit_account(ports, customer, DECEMBER, date(2027, 1, 3))
    assert report.differences == []
    assert any("way it began" in assumption for assumption in report.assumptions)


def test_a_switch_to_monthly_mid_period_audits_clean(store):
    customer, ports = switched_to_monthly_on_the_10th(store, "Psi Bar", until=date(2027, 1, 3))
    assert audit_account(ports, customer, DECEMBER, date(2027, 1, 3)).differences == []


def test_a_day_charged_both_ways_is_still_named(store):
    # A daily fee written by hand into a period paid by the month: the audit, expecting the
    # month's way, names it unexpected.
    customer, ports = switched_to_daily_on_the_10th(store, "Omega Cafe", until=date(2026, 12, 12))
    opened_in = account_modb(customer, 2026, 11)  # 00:05 on the 1st in Moscow: still November in UTC
    rows = store.all_docs(opened_in, ViewQuery(include_docs=True)).rows
    mrc = next(row.doc for row in rows if "-kazbill-mrc-20261201-" in row.id)
    meta = mrc["metadata"]["kazbill"]
    forged = {
        **{key: value for key, value in mrc.items() if key != "_rev"},
        "_id": "202612-kazbill-daily-20261211-devices-sip_device-q2",
        "amount": 322_581,
        "metadata": {**mrc["metadata"], "kazbill": {**meta, "reason": "daily_fee", "day": "2026-12-11"}},
    }
    store.put(account_modb(customer, 2026, 12), forged)
    differences = audit_account(ports, customer, DECEMBER, date(2026, 12, 12)).differences
    assert [(d.entry_id, d.kind) for d in differences] == [(forged["_id"], "unexpected")]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(switch_day=st.integers(2, 28), added_day=st.integers(2, 28), to_daily=st.booleans())
def test_whenever_the_switch_and_a_change_come_the_ledger_billing_wrote_audits_clean(
    tmp_path_factory, switch_day, added_day, to_daily
):
    store = EmbeddedStore(tmp_path_factory.mktemp("switch") / "k.sqlite3")
    world, customer, clock, ports = one_customer(
        store,
        "Alpha Bar",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 12, 1, 0, 5, tzinfo=MSK),
        onbill=RESELLER_ONBILL if to_daily else DAILY_PHONES,
    )
    for day in days_of(DECEMBER, date(2027, 1, 3)):
        if day.month == 12 and day.day == switch_day:
            switch_charging(store, world, {"devices": "daily"} if to_daily else {})
        crawl_days(ports, clock, customer, [day])
        if day.month == 12 and day.day == added_day:
            phones_added(world, clock, ports, customer, datetime(2026, 12, added_day, 15, 0, tzinfo=MSK))
    assert audit_account(ports, customer, DECEMBER, date(2027, 1, 3)).differences == []
    store.close()
