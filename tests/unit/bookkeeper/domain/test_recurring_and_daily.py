"""Worked examples of monthly recurring charges and daily fees, as a reseller states them."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plan_pricing import price_item
from bookkeeper.domain.plans import parse_plan_item
from bookkeeper.domain.recurring import decrease_credit, increase_charges, opening_charges

DEVICE = parse_plan_item("devices", "sip_device", {"name": "Desk phone", "rate": 500})
TRUNK = parse_plan_item("limits", "twoway_trunks", {"name": "Two-way trunk", "rate": 300})


def test_a_period_opens_with_the_full_month_of_each_item():
    period = period_containing(15, date(2026, 3, 15))
    (charge,) = opening_charges(period, date(2026, 3, 15), [price_item(DEVICE, 4)], prorate=False)
    assert (charge.entry_id, charge.amount, charge.reason, charge.code, charge.ledger_type) == (
        "202603-kazbill-mrc-20260315-devices-sip_device-q4",
        20_000_000,
        "monthly_recurring",
        5001,
        "debit",
    )
    assert (charge.quantity, charge.rate, charge.ratio, charge.period.end) == (4, 5_000_000, "31/31", date(2026, 4, 14))


def test_a_new_account_joining_mid_period_pays_the_days_left_when_its_reseller_prorates():
    period = period_containing(1, date(2026, 11, 20))  # 1..30 November
    (charge,) = opening_charges(period, date(2026, 11, 20), [price_item(DEVICE, 3)], prorate=True)
    # 1,500 RUB a month for 11 of 30 days: 15,000,000 = 30 × 500,000, no remainder
    assert (charge.amount, charge.reason, charge.ratio) == (5_500_000, "recurring_prorate", "11/30")
    (full,) = opening_charges(period, date(2026, 11, 20), [price_item(DEVICE, 3)], prorate=False)
    assert full.amount == 15_000_000


def test_a_fourth_device_added_on_2_march_is_charged_for_13_of_28_days():
    period = period_containing(15, date(2026, 3, 2))  # 15 February .. 14 March 2026: 28 days
    assert (period.start, period.end, period.days) == (date(2026, 2, 15), date(2026, 3, 14), 28)
    (charge,) = increase_charges(period, date(2026, 3, 2), price_item(DEVICE, 4), price_item(DEVICE, 3))
    # 20,000,000 for the 13 days left, less what 15,000,000 already covers for them
    assert charge.amount == (13 * 714_285 + 5) - (13 * 535_714)
    assert charge.amount == 2_321_428  # 500 RUB × 13/28 = 232.1428... RUB
    assert (charge.entry_id, charge.reason, charge.ratio) == (
        "202603-kazbill-mrc-20260215-devices-sip_device-q4",
        "recurring_prorate",
        "13/28",
    )


def test_no_charge_below_or_at_the_high_water_mark():
    period = period_containing(1, date(2026, 11, 5))
    assert increase_charges(period, date(2026, 11, 5), price_item(DEVICE, 3), price_item(DEVICE, 4)) == []
    assert increase_charges(period, date(2026, 11, 5), price_item(DEVICE, 4), price_item(DEVICE, 4)) == []


def test_an_item_the_plan_does_not_prorate_is_charged_its_full_difference():
    period = period_containing(1, date(2026, 11, 5))
    (charge,) = increase_charges(period, date(2026, 11, 5), price_item(DEVICE, 4), price_item(DEVICE, 3), prorate=False)
    assert (charge.amount, charge.reason) == (5_000_000, "monthly_recurring")


def test_activation_charges_come_with_the_increase():
    item = parse_plan_item("phone_numbers", "did", {"rate": 100, "activation_charge": 25})
    period = period_containing(1, date(2026, 11, 1))
    charges = increase_charges(period, date(2026, 11, 1), price_item(item, 3), price_item(item, 1))
    assert [(c.reason, c.amount, c.entry_id) for c in charges] == [
        ("recurring_prorate", 2_000_000, "202611-kazbill-mrc-20261101-phone_numbers-did-q3"),
        ("feature_activation", 500_000, "202611-kazbill-activation-20261101-phone_numbers-did-q3"),
    ]


def test_a_prorated_credit_for_a_decrease_opens_a_new_round_of_levels():
    period = period_containing(1, date(2026, 11, 21))  # 10 of 30 days left
    credit = decrease_credit(period, date(2026, 11, 21), price_item(DEVICE, 2), price_item(DEVICE, 3), round_=0)
    # The 10 days left cost 5,000,000 at 3 devices and 3,333,330 at 2 (10,000,000 = 30 × 333,333
    # + 10, the remainder units belonging to the first 10 days): 166.67 RUB back.
    assert (credit.ledger_type, credit.amount, credit.reason, credit.entry_id) == (
        "credit",
        1_666_670,
        "recurring_prorate_credit",
        "202611-kazbill-credit-20261101-devices-sip_device-q2-r1",
    )
    (again,) = increase_charges(period, date(2026, 11, 21), price_item(DEVICE, 3), price_item(DEVICE, 2), round_=1)
    assert again.entry_id.endswith("-q3-r1") and again.amount == credit.amount


def test_a_daily_fee_across_a_31_day_period_adds_up_to_the_monthly_cost():
    period = period_containing(1, date(2026, 12, 1))
    charges = [daily_fee_charge(period, day, price_item(TRUNK, 2), None) for day in period.each_day()]
    assert sum(c.amount for c in charges) == 6_000_000
    assert {c.amount for c in charges} == {193_548, 193_549}
    assert charges[0].entry_id == "202612-kazbill-daily-20261201-limits-twoway_trunks-q2"
    assert charges[0].reason == "daily_fee" and charges[0].ratio == "1/31"


def test_a_daily_fee_across_a_28_day_period_adds_up_to_the_monthly_cost():
    period = period_containing(1, date(2027, 2, 1))
    assert period.days == 28
    assert (
        sum(daily_fee_charge(period, day, price_item(TRUNK, 2), None).amount for day in period.each_day()) == 6_000_000
    )


def test_a_rise_during_the_day_is_charged_at_once_and_a_fall_changes_nothing():
    period = period_containing(1, date(2026, 12, 1))
    day = date(2026, 12, 15)  # index 14: past the 12 days that carry a remainder unit
    first = daily_fee_charge(period, day, price_item(TRUNK, 2), None)
    rise = daily_fee_charge(period, day, price_item(TRUNK, 5), price_item(TRUNK, 2))
    assert first.amount + rise.amount == daily_fee_charge(period, day, price_item(TRUNK, 5), None).amount
    assert rise.entry_id.endswith("-q5") and "raised from 2" in rise.description
    assert daily_fee_charge(period, day, price_item(TRUNK, 1), price_item(TRUNK, 5)) is None


@given(st.integers(1, 31), st.integers(0, 400), st.lists(st.integers(0, 40), min_size=1, max_size=8))
def test_a_day_pays_exactly_its_share_at_its_highest_quantity(billing_day, offset, levels):
    day = date(2026, 1, 1) + timedelta(days=offset)
    period = period_containing(billing_day, day)
    charged, total = None, 0
    for level in levels:
        charge = daily_fee_charge(period, day, price_item(TRUNK, level), charged)
        if charge:
            total += charge.amount
            charged = price_item(TRUNK, level)
    top = max(levels)
    expected = daily_fee_charge(period, day, price_item(TRUNK, top), None)
    assert total == (expected.amount if expected else 0)


@given(st.integers(1, 31), st.integers(0, 400), st.lists(st.integers(0, 30), min_size=1, max_size=8))
def test_mid_period_increases_charge_the_days_left_of_the_highest_level_reached(billing_day, offset, levels):
    opening = date(2026, 1, 1) + timedelta(days=offset)
    period = period_containing(billing_day, opening)
    charged, total = None, 0
    for level in levels:
        for charge in increase_charges(period, period.start, price_item(DEVICE, level), charged):
            total += charge.amount
        charged = (
            max(charged, price_item(DEVICE, level), key=lambda p: p.billable_quantity)
            if charged
            else price_item(DEVICE, level)
        )
    assert total == price_item(DEVICE, max(levels)).monthly  # from the first day: the whole month at the top level
