"""Calls Kazoo's jonny5 debits itself, on both stores: the debit j5_per_minute writes
(`per-minute-voip`, the Call-ID as source.id, in the UTC month it is written in) stops Kazbill
charging that level, and so does a leg that says jonny5 is about to write it; the other levels of
the chain are charged as ever, and the audit expects nothing where jonny5 debits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookkeeper.domain.calls import ACCOUNT_LEVEL, RESELLER_LEVEL, FinishedCall, call_from_cdr
from bookkeeper.domain.kazoo_names import account_modb, to_gregorian_seconds
from bookkeeper.services.audit.audit_calls import audit_calls
from bookkeeper.services.rating.call_rating import bill_call
from testkit.support.kazoo_amqp import jonny5_ledger
from tests.integration.test_call_rating import chain, debits  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.integration


def gregorian(moment: datetime) -> int:
    return to_gregorian_seconds(int(moment.timestamp()))


def charges(events) -> list[tuple[str, str]]:
    return [(event.account_id, event.name) for event in events if event.name.startswith("call_")]


def test_a_call_jonny5_debited_in_another_month_than_the_calls_is_charged_nothing_more_there(chain):  # noqa: F811
    """Ended 21:30 UTC on 30 November, which is 1 December in Moscow: jonny5's debit went into
    November's database a few seconds later; Kazbill rates the call from a late CDR on 3 December."""
    world, ports = chain
    customer, sub, reseller = world.ids["customer"], world.ids["sub"], world.ids["reseller"]
    ended = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    world.store.ensure_database(account_modb(customer, 2026, 11))  # Kazoo's month: none of Kazbill's views in it
    world.store.put(
        account_modb(customer, 2026, 11),
        jonny5_ledger(customer, "j5-call-1", 2_400, 126, gregorian(ended) + 2, "202611"),
    )
    ports.clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    events = bill_call(
        ports, FinishedCall(customer, "j5-call-1", 125, "74951234567", "outbound", True, gregorian(ended))
    )
    assert charges(events) == [(customer, "call_debited_by_kazoo"), (sub, "call_charged"), (reseller, "call_charged")]
    december = account_modb(customer, 2026, 12)
    assert not world.store.database_exists(december) or not [
        row for row in world.store.all_docs(december).rows if "-call-" in row.id
    ]


def test_a_leg_jonny5_is_about_to_debit_is_left_to_it_at_its_levels(chain):  # noqa: F811
    world, ports = chain
    customer, sub, reseller = world.ids["customer"], world.ids["sub"], world.ids["reseller"]
    ended = gregorian(datetime(2026, 11, 10, 12, 30, tzinfo=UTC))
    account_only = FinishedCall(
        customer, "j5-call-2", 125, "74951234567", "outbound", True, ended, jonny5_levels=(ACCOUNT_LEVEL,)
    )
    assert charges(bill_call(ports, account_only)) == [
        (customer, "call_left_to_jonny5"),
        (sub, "call_charged"),
        (reseller, "call_charged"),
    ]
    both = FinishedCall(
        customer,
        "j5-call-3",
        125,
        "74951234567",
        "outbound",
        True,
        ended,
        jonny5_levels=(ACCOUNT_LEVEL, RESELLER_LEVEL),
        kazoo_reseller_id=sub,
    )
    assert charges(bill_call(ports, both)) == [
        (customer, "call_left_to_jonny5"),
        (sub, "call_left_to_jonny5"),
        (reseller, "call_charged"),
    ]
    assert not [entry for entry in debits(world.store, customer) if "j5-call" in entry]


def test_the_audit_expects_no_charge_where_jonny5_debits_and_finds_none_missing(chain):  # noqa: F811
    world, ports = chain
    customer = world.ids["customer"]
    ended = datetime(2026, 11, 10, 12, 30, tzinfo=UTC)
    db = account_modb(customer, 2026, 11)
    world.store.ensure_database(db)
    cdrs = [
        {
            "_id": f"202611-{call_id}",
            "pvt_type": "cdr",
            "call_id": call_id,
            "billing_seconds": "125",
            "call_direction": "outbound",
            "callee_id_number": "+74951234567",
            "timestamp": gregorian(ended),
            "custom_channel_vars": {
                "account_id": customer,
                "resource_id": "carrier-1",
                "resource_type": "offnet-termination",
                **ccv,
            },
        }
        for call_id, ccv in (
            ("audit-j5-debited", {}),
            ("audit-j5-pending", {"account_billing": "per_minute", "rate": "12000"}),
        )
    ]
    world.store.bulk_put(
        db, [*cdrs, jonny5_ledger(customer, "audit-j5-debited", 2_400, 126, gregorian(ended) + 2, "202611")]
    )
    for doc in cdrs:
        bill_call(ports, call_from_cdr(doc))
    assert audit_calls(ports, [customer], date(2026, 11, 1), date(2026, 11, 30)) == {}
