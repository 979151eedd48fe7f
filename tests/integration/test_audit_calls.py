"""The calls part of `kazbill audit`: each answered call to a carrier in a CDR must be debited
once, at the deck's price, at every level of the reseller chain that has a deck. Worked examples
(one call each lost, doubled, mispriced; a sub-reseller charged by its parent) through the
command line, and a property: whatever calls are replayed how often, only the calls never rated
are found, each as missing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.calls import call_from_cdr
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import ViewQuery
from bookkeeper.services.audit.audit_calls import audit_calls
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.rating.call_rating import bill_call
from bookkeeper.services.rating.rate_decks import import_rate_deck
from entrypoints.cli import main
from testkit.fixtures.billing_world import World, gregorian
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
ENDED = datetime(2026, 11, 5, 14, 0, tzinfo=MSK)


def cdr(account_id: str, call_id: str, seconds: int) -> dict:
    """A carrier leg's CDR as Kazoo's cdr app writes it."""
    return {
        "_id": f"202611-{call_id}",
        "pvt_type": "cdr",
        "call_id": call_id,
        "billing_seconds": str(seconds),
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "timestamp": gregorian(ENDED),
        "custom_channel_vars": {"account_id": account_id, "resource_id": "carrier-1"},
        "pvt_account_id": account_id,
        "pvt_created": gregorian(ENDED),
    }


def calls_world(path):
    store = EmbeddedStore(path)
    world = World(store).build(reseller_onbill={**RESELLER_ONBILL, "default_rate_deck": "retail"}, plan=OFFICE_PLAN)
    customer = world.customer(
        "Nu Logistics", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=1
    )
    # Moscow at 1.20 a minute, per 60 s with a 60 s minimum: a 61-second call costs 2.40.
    assert import_rate_deck(
        store, world.reseller, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7495,1.20,60,60"]
    ).report.ok
    store.ensure_database(account_modb(customer, 2026, 11))
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 5, 14, 5, tzinfo=MSK)), world.design_docs)
    return store, world, customer, ports


def place(store, ports, customer: str, call_id: str, seconds: int = 61, rated: int = 1) -> None:
    doc = cdr(customer, call_id, seconds)
    store.put(account_modb(customer, 2026, 11), doc)
    for _ in range(rated):
        bill_call(ports, call_from_cdr(doc))


def test_lost_doubled_and_mispriced_calls_are_each_named_and_exit_1(tmp_path):
    store, world, customer, ports = calls_world(tmp_path / "k.sqlite3")
    place(store, ports, customer, "call-fine", rated=2)  # a replay: still one debit
    place(store, ports, customer, "call-lost", rated=0)  # the event never reached Kazbill
    place(store, ports, customer, "call-repriced")
    db = account_modb(customer, 2026, 11)
    repriced = next(
        row.doc
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
        if "call-repriced" in row.id and row.doc.get("pvt_type") == "ledger"
    )
    store.put(db, {**repriced, "amount": 12_000})
    double = {**repriced, "_id": repriced["_id"] + "-again", "amount": 24_000}
    double.pop("_rev")
    store.put(db, double)
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": ""}
    result = CliRunner().invoke(
        main, ["audit", "--account", customer, "--from", "2026-11-01", "--to", "2026-11-30"], env=env
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "-kazbill-call-" in line]
    assert len(lines) == 3, result.output
    assert any("missing 202611-kazbill-call-call-lost (expected → held: -2.4 → none)" in line for line in lines)
    assert any("amount 202611-kazbill-call-call-repriced (expected → held: -2.4 → -1.2)" in line for line in lines)
    assert any(
        "unexpected 202611-kazbill-call-call-repriced-again (expected → held: none → -2.4)" in line for line in lines
    ), lines
    assert "calls are rated at each reseller's deck as it is now" in result.output


def test_a_sub_resellers_debit_for_its_customers_call_is_audited_with_the_call(tmp_path):
    # The customer's reseller is itself a customer of the top reseller, which rates the same
    # call at its own deck: two debits for one call, each audited; the top reseller is listed
    # although only the customer was asked for.
    from testkit.fixtures.api_world import ApiWorld

    store = EmbeddedStore(tmp_path / "k.sqlite3")
    world = ApiWorld(store).build()
    from tests.integration.test_call_rating import set_onbill

    sub, top, customer = world.ids["sub"], world.ids["reseller"], world.ids["customer"]
    for owner, deck, rate in ((sub, "retail", "0.37"), (top, "wholesale", "0.20")):
        set_onbill(store, owner, default_rate_deck=deck)
        assert import_rate_deck(
            store, owner, deck, ["prefix,rate_cost,rate_increment,rate_minimum", f"7,{rate},6,30"]
        ).report.ok
    ports = BillingPorts(store, SettableClock(datetime(2026, 11, 5, 14, 5, tzinfo=MSK)), world.world.design_docs)
    store.ensure_database(account_modb(customer, 2026, 11))
    place(store, ports, customer, "chain-1")
    assert audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30)) == {}
    held = [row.id for row in store.all_docs(account_modb(sub, 2026, 11)).rows if "chain-1" in row.id]
    store.delete(account_modb(sub, 2026, 11), held[0], store.get(account_modb(sub, 2026, 11), held[0])["_rev"])
    found = audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30))
    assert list(found) == [sub] and [d.kind for d in found[sub]] == ["missing"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ratings=st.lists(st.integers(0, 3), min_size=1, max_size=6),
    seconds=st.lists(st.sampled_from((1, 30, 61, 600)), min_size=6, max_size=6),
)
def test_only_calls_never_rated_are_found_and_each_as_missing(tmp_path_factory, ratings, seconds):
    store, world, customer, ports = calls_world(tmp_path_factory.mktemp("calls") / "k.sqlite3")
    for n, rated in enumerate(ratings):
        place(store, ports, customer, f"prop-{n}", seconds[n], rated)
    found = audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30))
    missing = sorted(d.entry_id.rsplit("-", 1)[-1] for d in found.get(customer, []))
    assert all(d.kind == "missing" for d in found.get(customer, []))
    assert missing == sorted(str(n) for n, rated in enumerate(ratings) if rated == 0)


def test_a_call_jonny5_debited_is_not_expected_and_one_debit_in_two_months_is_two(tmp_path):
    store, world, customer, ports = calls_world(tmp_path / "k.sqlite3")
    # Kazoo's own per-minute ledger for the call: Kazbill must not charge it, the audit expect nothing.
    store.put(
        account_modb(customer, 2026, 11),
        {
            "_id": "kazoo-ledger-1",
            "pvt_type": "ledger",
            "pvt_ledger_type": "debit",
            "amount": 24_000,
            "source": {"service": "per_minute_call", "id": "call-by-jonny5"},
            "pvt_account_id": customer,
        },
    )
    place(store, ports, customer, "call-by-jonny5")
    place(store, ports, customer, "call-twice")
    assert audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30)) == {}
    # The same entry again in December's database: charged twice, the audit says so.
    entry = store.get(account_modb(customer, 2026, 11), "202611-kazbill-call-call-twice")
    store.ensure_database(account_modb(customer, 2026, 12))
    store.put(account_modb(customer, 2026, 12), {k: v for k, v in entry.items() if k != "_rev"})
    found = audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30))
    assert [(d.entry_id, d.kind, d.expected, d.actual) for d in found[customer]] == [
        ("202611-kazbill-call-call-twice", "amount", -24_000, -48_000)
    ]
