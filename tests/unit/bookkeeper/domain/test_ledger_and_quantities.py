from __future__ import annotations

from datetime import date

from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import day_levels, ledger_document, period_levels, signed_amount
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plan_pricing import price_item
from bookkeeper.domain.plans import parse_plan_item
from bookkeeper.domain.quantities import classify_number, quantities_from_views, without
from bookkeeper.domain.recurring import decrease_credit, increase_charges, opening_charges

ACCOUNT = "4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
DEVICE = parse_plan_item("devices", "sip_device", {"name": "Desk phone", "rate": 500})
NOW = 63_960_710_400 + 3600


def doc(charge, tz="Europe/Moscow"):
    return ledger_document(
        charge, account_id=ACCOUNT, account_name="Alpha Taxi", currency="RUB", tz=tz, now_gregorian=NOW
    )


def test_a_charge_becomes_a_kazoo_ledger_document_with_kazbills_details_in_metadata():
    period = period_containing(15, date(2026, 3, 2))
    (charge,) = increase_charges(period, date(2026, 3, 2), price_item(DEVICE, 4), price_item(DEVICE, 3))
    entry = doc(charge)
    assert entry["_id"] == "202603-kazbill-mrc-20260215-devices-sip_device-q4"
    assert (entry["pvt_type"], entry["pvt_ledger_type"], entry["amount"]) == ("ledger", "debit", 2_321_428)
    # Kazoo's registered source for service charges; Kazbill's finer kind is in the metadata.
    assert entry["source"] == {"service": "services", "id": entry["_id"]}
    assert entry["metadata"]["kazbill"]["reason"] == "recurring_prorate"
    assert entry["usage"] == {"type": "devices", "quantity": 4, "unit": "month"}
    assert entry["account"] == {"id": ACCOUNT, "name": "Alpha Taxi"}
    assert entry["pvt_account_db"] == account_modb(ACCOUNT, 2026, 3)
    # Moscow midnight of 15 February 2026 is 21:00 UTC on the 14th, in Gregorian seconds.
    assert entry["period"]["start"] == 63_938_322_000
    assert entry["period"]["end"] == 63_940_741_200 - 1  # the second before Moscow's 15 March begins
    assert entry["metadata"]["kazbill"] == {
        "reason": "recurring_prorate",
        "code": 5002,
        "category": "devices",
        "item": "sip_device",
        "quantity": 4,
        "rate": 5_000_000,
        "monthly": 20_000_000,
        "ratio": "13/28",
        # what a document shows as "1 × 50,000.00 × 13/28": the item's name and the level before
        "name": "Desk phone",
        "from_quantity": 3,
        "from_monthly": 15_000_000,
        "currency": "RUB",
        "day": "2026-03-02",
        "period": {"start": "2026-02-15", "end": "2026-03-14"},
    }
    assert signed_amount(entry) == -2_321_428


def test_the_high_water_mark_of_a_period_is_read_back_from_its_entries():
    period = period_containing(1, date(2026, 11, 1))
    entries = [doc(c) for c in opening_charges(period, date(2026, 11, 1), [price_item(DEVICE, 3)], prorate=False)]
    entries += [
        doc(c) for c in increase_charges(period, date(2026, 11, 9), price_item(DEVICE, 5), price_item(DEVICE, 3))
    ]
    levels = period_levels(entries, period)
    assert levels.level("devices", "sip_device").billable_quantity == 5
    assert levels.level("devices", "sip_device").monthly == 25_000_000
    assert levels.round_of("devices", "sip_device") == 0
    assert period_levels(entries, period.next()).level("devices", "sip_device") is None


def test_after_a_prorated_credit_the_level_is_the_credited_one_and_a_new_round_begins():
    period = period_containing(1, date(2026, 11, 1))
    entries = [doc(c) for c in opening_charges(period, date(2026, 11, 1), [price_item(DEVICE, 3)], prorate=False)]
    entries.append(
        doc(decrease_credit(period, date(2026, 11, 10), price_item(DEVICE, 1), price_item(DEVICE, 3), round_=0))
    )
    levels = period_levels(entries, period)
    assert (
        levels.level("devices", "sip_device").billable_quantity == 1 and levels.round_of("devices", "sip_device") == 1
    )
    entries += [
        doc(c)
        for c in increase_charges(period, date(2026, 11, 12), price_item(DEVICE, 2), price_item(DEVICE, 1), round_=1)
    ]
    assert period_levels(entries, period).level("devices", "sip_device").billable_quantity == 2


def test_a_days_levels_come_from_that_days_daily_fees_only():
    trunk = parse_plan_item("limits", "twoway_trunks", {"rate": 300})
    period = period_containing(1, date(2026, 12, 1))
    entries = [
        doc(daily_fee_charge(period, date(2026, 12, 1), price_item(trunk, 2), None)),
        doc(daily_fee_charge(period, date(2026, 12, 2), price_item(trunk, 4), None)),
    ]
    assert day_levels(entries, date(2026, 12, 1)).level("limits", "twoway_trunks").billable_quantity == 2
    assert day_levels(entries, date(2026, 12, 3)).level("limits", "twoway_trunks") is None


def test_deleted_and_foreign_entries_are_not_levels():
    period = period_containing(1, date(2026, 11, 1))
    (charge,) = opening_charges(period, date(2026, 11, 1), [price_item(DEVICE, 3)], prorate=False)
    kazoos_own = {"_id": "202611-x", "pvt_type": "ledger", "pvt_ledger_type": "debit", "amount": 5}
    assert period_levels([{**doc(charge), "pvt_deleted": True}, kazoos_own], period).levels == {}


def test_quantities_come_from_the_view_rows_and_numbers_in_service_only():
    quantities = quantities_from_views(
        [(["devices", "sip_device"], 2), (["users", "admin"], 1), (["limits", "twoway_trunks"], 0)],
        [
            ("+74951234567", {"state": "in_service", "features": ["cnam", "local"]}),
            ("+78001234567", {"state": "in_service", "features": []}),
            ("+15551230000", {"state": "reserved", "features": ["cnam"]}),
        ],
    )
    assert quantities == {
        "devices": {"sip_device": 2},
        "users": {"admin": 1},
        "phone_numbers": {"did": 1, "tollfree": 1},
        "number_services": {"cnam": 1, "local": 1},
    }
    assert without(quantities, [("devices", "sip_device")])["devices"] == {}


def test_numbers_are_classified_toll_free_or_did():
    assert [classify_number(n) for n in ("+18005551234", "+78001234567", "+74951234567", "+441234")] == [
        "tollfree",
        "tollfree",
        "did",
        "did",
    ]
