"""`kazbill audit` on an embedded store billed by the real handlers: clean after billing, and
each kind of damage named with its cause and a non-zero exit."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from click.testing import CliRunner

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day
from bookkeeper.services.payments.postings import apply_payment
from entrypoints.cli import main
from testkit.fixtures.billing_world import World
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration


@pytest.fixture
def billed(tmp_path):
    path = tmp_path / "k.sqlite3"
    store = EmbeddedStore(path)
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customer = world.customer(
        "Alpha Taxi", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, devices=2, limits=GENEROUS
    )
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    for day in range(1, 4):
        clock.set(datetime(2026, 11, day, 0, 5, tzinfo=MSK))
        crawl_account_day(ports, customer, date(2026, 11, day))
    apply_payment(ports, customer, amount=5_000_000, reason="paypal", external_id="TX1")
    yield store, customer, {"KAZBILL_STORE_PATH": str(path), "KAZBILL_STORE_URL": ""}, world
    store.close()


def audit(env, *args):
    return CliRunner().invoke(main, ["audit", *args, "--from", "2026-11-01", "--to", "2026-11-03"], env=env)


def test_a_ledger_billed_by_kazbill_audits_clean(billed):
    _, customer, env, world = billed
    for scope in (["--account", customer], ["--reseller", world.reseller], ["--all"]):
        result = audit(env, *scope)
        assert result.exit_code == 0, result.output
        assert "0 differences" in result.output and "assumed:" in result.output


def test_a_lost_charge_a_doubled_charge_and_a_payment_written_around_kazbill_are_named(billed):
    store, customer, env, _ = billed
    # November's opening was written at 00:05 Moscow time, still October for Kazoo (UTC).
    october, db = account_modb(customer, 2026, 10), account_modb(customer, 2026, 11)
    mrc = next(row for row in store.all_docs(october).rows if "-kazbill-mrc-20261101-" in row.id)
    store.delete(october, mrc.id, mrc.value["rev"])  # lost
    rows = store.all_docs(db).rows
    copy = {
        k: v for k, v in store.get(db, next(r.id for r in rows if "-kazbill-paypal-" in r.id)).items() if k != "_rev"
    }
    store.put(db, {**copy, "_id": "202611-kazbill-paypal-FORGED"})  # a credit no registration explains
    result = audit(env, "--account", customer, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    kinds = {d["kind"]: d for d in report["findings"][0]["differences"]}
    assert set(kinds) == {"missing", "posting_unregistered", "rollover"} and report["clean"] is False
    # November's rollover carried the lost charge: October's total no longer matches it.
    assert kinds["rollover"]["entry_id"] == "202611-ledgers_monthly_rollover"
    # Named by the business event (the month prefix of a lost entry is the one it would have had).
    assert event_part(kinds["missing"]["entry_id"]) == event_part(mrc.id) and "lacks it" in kinds["missing"]["cause"]
    assert kinds["posting_unregistered"]["actual"] == 5_000_000


def test_a_debit_written_into_a_month_after_its_rollover_is_named_as_money_in_no_balance(billed):
    """A jonny5 debit written into October at 23:55 UTC after Kazbill rolled October into November:
    Kazoo's balance reads November only, so the debit is in no balance; the audit says so."""
    store, customer, env, _ = billed
    october = account_modb(customer, 2026, 10)
    store.put(
        october,
        {
            "_id": "202610-jonny5-late-call",
            "pvt_type": "ledger",
            "pvt_ledger_type": "debit",
            "amount": 1_234,
            "account_id": customer,
            "source": {"service": "per-minute-voip", "id": "c1"},
            "pvt_created": 63_944_524_500,
            "metadata": {},
        },
    )
    result = audit(env, "--account", customer, "--json")
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.output)["findings"]
    [gap] = [d for d in finding["differences"] if d["kind"] == "rollover"]
    assert gap["entry_id"] == "202611-ledgers_monthly_rollover" and gap["expected"] - gap["actual"] == -1_234
    assert "rollover" in gap["cause"]


def test_bad_requests_exit_2(billed):
    _, customer, env, _ = billed
    assert CliRunner().invoke(main, ["audit", "--from", "2026-11-01", "--to", "2026-11-03"], env=env).exit_code == 2
    assert audit(env, "--account", customer, "--all").exit_code == 2
    swapped = CliRunner().invoke(main, ["audit", "--all", "--from", "2026-11-05", "--to", "2026-11-01"], env=env)
    assert swapped.exit_code == 2 and "--from" in swapped.output
