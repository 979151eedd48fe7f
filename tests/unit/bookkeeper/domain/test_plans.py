"""Service plan pricing, as a reseller would state it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.plan_pricing import price_item, price_services
from bookkeeper.domain.plans import (
    PlanError,
    merge_plans,
    parse_plan_item,
    parse_service_plan,
)

RUB = 10_000  # units per rouble


def plan(**categories) -> dict:
    return {"_id": "plan_office", "name": "Office", "pvt_type": "service_plan", "plan": categories}


def monthly(plan_doc: dict, quantities: dict) -> dict:
    return {(p.category, p.item): p.monthly for p in price_services(parse_service_plan(plan_doc), quantities)}


def test_three_devices_at_500_roubles_cost_1500_a_month():
    prices = price_services(
        parse_service_plan(plan(devices={"sip_device": {"rate": Decimal("500.00")}})), {"devices": {"sip_device": 3}}
    )
    (device,) = prices
    assert (device.quantity, device.billable_quantity, device.rate, device.monthly) == (3, 3, 500 * RUB, 1500 * RUB)


@pytest.mark.parametrize("quantity, expected", [(3, 30), (5, 50), (7, 56), (10, 80), (12, 72)])
def test_tiered_rates_apply_while_the_quantity_is_under_the_tier_and_the_rate_beyond(quantity, expected):
    item = parse_plan_item("users", "user", {"rates": {"5": 10, "10": 8}, "rate": 6})
    assert price_item(item, quantity).monthly == expected * RUB


def test_past_the_last_tier_without_a_rate_the_last_tier_carries_on():
    item = parse_plan_item("users", "user", {"rates": {"5": 10, "10": 8}})
    assert price_item(item, 12).monthly == 12 * 8 * RUB


def test_flat_rates_charge_one_amount_for_the_whole_tier_and_rates_take_over_past_them():
    item = parse_plan_item("limits", "twoway_trunks", {"flat_rates": {"10": 1000, "20": 1800}, "rate": 95})
    assert [price_item(item, q).monthly for q in (1, 10, 15, 21)] == [1000 * RUB, 1000 * RUB, 1800 * RUB, 21 * 95 * RUB]
    assert price_item(item, 15).rate is None
    assert price_item(parse_plan_item("limits", "x", {"flat_rate": 300}), 7).monthly == 300 * RUB


def test_minimum_maximum_and_step_shape_the_billable_quantity():
    assert price_item(parse_plan_item("users", "user", {"rate": 10, "minimum": 5}), 2).billable_quantity == 5
    assert price_item(parse_plan_item("users", "user", {"rate": 10, "minimum": 5}), 0).monthly == 0
    assert price_item(parse_plan_item("users", "user", {"rate": 10, "maximum": 10}), 12).monthly == 100 * RUB
    assert price_item(parse_plan_item("limits", "inbound_trunks", {"rate": 10, "step": 5}), 6).billable_quantity == 10


def test_a_single_discount_comes_off_once_and_a_cumulative_one_per_item_up_to_its_maximum():
    single = parse_plan_item("devices", "sip_device", {"rate": 500, "discounts": {"single": {"rate": 100}}})
    assert (price_item(single, 3).gross, price_item(single, 3).discount, price_item(single, 3).monthly) == (
        1500 * RUB,
        100 * RUB,
        1400 * RUB,
    )
    cumulative = parse_plan_item(
        "devices", "sip_device", {"rate": 500, "discounts": {"cumulative": {"rate": 50, "maximum": 2}}}
    )
    assert price_item(cumulative, 3).monthly == 1400 * RUB
    tiered = parse_plan_item(
        "devices", "sip_device", {"rate": 500, "discounts": {"cumulative": {"rates": {"2": 10, "9": 40}, "maximum": 5}}}
    )
    assert price_item(tiered, 3).discount == 3 * 40 * RUB


def test_a_cumulative_discount_without_a_maximum_discounts_nothing_as_in_kazoo():
    item = parse_plan_item("devices", "sip_device", {"rate": 500, "discounts": {"cumulative": {"rate": 50}}})
    assert price_item(item, 3).monthly == 1500 * RUB


def test_discounts_never_take_the_cost_below_zero():
    item = parse_plan_item("devices", "sip_device", {"rate": 10, "discounts": {"single": {"rate": 100}}})
    priced = price_item(item, 2)
    assert (priced.monthly, priced.discount) == (0, 20 * RUB)


def test_an_item_counted_as_another_adds_to_its_quantity():
    doc = plan(devices={"softphone": {"as": "sip_device"}, "sip_device": {"rate": 500}})
    assert monthly(doc, {"devices": {"softphone": 2, "sip_device": 3}}) == {("devices", "sip_device"): 2500 * RUB}


def test_all_prices_the_rest_of_its_category_except_its_exceptions():
    doc = plan(devices={"_all": {"rate": 100, "exceptions": ["cellphone"]}, "sip_device": {"rate": 500}})
    assert monthly(doc, {"devices": {"sip_device": 2, "softphone": 1, "landline": 2, "cellphone": 3}}) == {
        ("devices", "_all"): 300 * RUB,
        ("devices", "sip_device"): 1000 * RUB,
    }


def test_items_the_plan_does_not_price_are_not_billed():
    doc = plan(devices={"sip_device": {"rate": 500}})
    assert monthly(doc, {"devices": {"sip_device": 1}, "users": {"admin": 1}}) == {("devices", "sip_device"): 500 * RUB}


def test_a_later_plan_replaces_an_item_of_an_earlier_one():
    base = parse_service_plan(plan(devices={"sip_device": {"rate": 500}}, users={"user": {"rate": 50}}))
    promo = parse_service_plan({"_id": "promo", "name": "Promo", "plan": {"devices": {"sip_device": {"rate": 300}}}})
    merged = merge_plans([base, promo])
    assert merged.item("devices", "sip_device").rate == 300 * RUB and merged.item("users", "user").rate == 50 * RUB
    assert merged.plan_id == "plan_office+promo"


def test_a_price_read_from_a_json_document_keeps_its_exact_decimal_value():
    # json.loads gives 483.871 and 0.1 as floats; the plan reads back the literal, not the double.
    item = parse_plan_item("devices", "sip_device", {"rate": 483.871, "activation_charge": 0.1})
    assert (item.rate, item.activation_charge) == (4_838_710, 1_000)


def test_activation_charges_are_per_newly_billable_item():
    item = parse_plan_item("phone_numbers", "did", {"rate": 100, "activation_charge": Decimal("25.50")})
    assert price_item(item, 1).activation_charge == 255_000


@pytest.mark.parametrize(
    "doc, field",
    [
        (plan(devices={"sip_device": {"name": "Desk phone"}}), "plan.devices.sip_device.rate"),
        (plan(devices={"sip_device": {"rate": -5}}), "plan.devices.sip_device.rate"),
        (plan(devices={"sip_device": {"rate": float("nan")}}), "plan.devices.sip_device.rate"),
        (plan(devices={"sip_device": {"rate": True}}), "plan.devices.sip_device.rate"),
        (plan(devices={"sip_device": {"rate": "five"}}), "plan.devices.sip_device.rate"),
        (plan(devices={"sip_device": {"rates": {"ten": 5}}}), "plan.devices.sip_device.rates.ten"),
        (plan(devices={"sip_device": {"rate": 5, "minimum": -1}}), "plan.devices.sip_device.minimum"),
        (plan(devices={"sip_device": {"rate": 5, "minimum": 5, "maximum": 2}}), "plan.devices.sip_device.maximum"),
        (plan(devices={"sip_device": {"rate": 5, "step": 0}}), "plan.devices.sip_device.step"),
        (plan(devices={"softphone": {"as": "desk_phone"}}), "plan.devices.softphone.as"),
        (plan(devices=["sip_device"]), "plan.devices"),
        (plan(devcies={"sip_device": {"rate": 5}}), "plan.devcies"),
        ({"_id": "p", "plan": None}, "plan"),
    ],
)
def test_a_broken_plan_is_refused_naming_the_field(doc, field):
    with pytest.raises(PlanError) as refused:
        parse_service_plan(doc)
    assert refused.value.field == field


@pytest.mark.parametrize("quantity", [-1, 1.5, "3", True, None])
def test_a_quantity_that_is_not_a_count_is_refused_naming_it(quantity):
    with pytest.raises(PlanError) as refused:
        price_services(
            parse_service_plan(plan(devices={"sip_device": {"rate": 5}})), {"devices": {"sip_device": quantity}}
        )
    assert refused.value.field == "quantities.devices.sip_device"


rates = st.integers(0, 10_000)
counts = st.integers(0, 1_000)


@given(rates, counts, st.integers(0, 20), st.integers(1, 5), st.integers(0, 20_000), st.integers(0, 300))
def test_cost_is_never_negative_and_never_above_the_gross(rate, quantity, minimum, step, single, cumulative):
    item = parse_plan_item(
        "devices",
        "sip_device",
        {
            "rate": rate,
            "minimum": minimum,
            "step": step,
            "discounts": {"single": {"rate": single}, "cumulative": {"rate": cumulative, "maximum": 10}},
        },
    )
    priced = price_item(item, quantity)
    assert 0 <= priced.monthly <= priced.gross
    assert priced.gross - priced.discount == priced.monthly
    assert priced.billable_quantity == 0 if quantity == 0 else priced.billable_quantity >= max(quantity, minimum)
    assert priced.billable_quantity % step == 0 or priced.billable_quantity == minimum


@given(st.decimals(min_value=0, max_value=100_000, places=2), counts)
def test_a_plain_rate_costs_rate_times_quantity_exactly(rate, quantity):
    assert price_item(parse_plan_item("users", "user", {"rate": rate}), quantity).monthly == int(rate * RUB) * quantity


def test_a_plan_may_name_a_rate_deck_without_pricing_it():
    from bookkeeper.domain.plan_pricing import price_services
    from bookkeeper.domain.plans import merge_plans, parse_service_plan, plan_rate_deck

    named = parse_service_plan(
        {"_id": "p", "plan": {"ratedeck_name": {"retail": {}}, "devices": {"sip_device": {"rate": 500}}}}
    )
    assert plan_rate_deck(named) == "retail"
    assert plan_rate_deck(parse_service_plan({"_id": "q", "plan": {"ratedeck": {"old-style": {}}}})) == "old-style"
    assert plan_rate_deck(parse_service_plan({"_id": "r", "plan": {"devices": {"sip_device": {"rate": 1}}}})) is None
    assert plan_rate_deck(None) is None
    prices = price_services(merge_plans([named]), {"devices": {"sip_device": 2}, "ratedeck_name": {"retail": 1}})
    assert [(p.item, p.billable_quantity) for p in prices] == [("sip_device", 2)]
