"""Which leg of a call is billed and by which number, from a CHANNEL_DESTROY or a CDR document:
worked examples of Kazoo's legs, and the invariant that the two legs of one call are never both
off-net (so the two reports of a call can never be two charges)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.calls import (
    ACCOUNT_LEVEL,
    INBOUND,
    OUTBOUND,
    CallRecordError,
    FinishedCall,
    billed_direction,
    call_from_cdr,
    rated_number,
)

ACCOUNT = "a" * 32
ENDED = 63_940_000_000


def cdr(**overrides) -> dict:
    doc = {
        "_id": "202611-b-leg-1",
        "pvt_type": "cdr",
        "call_id": "b-leg-1",
        "billing_seconds": 125,
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "caller_id_number": "+74950000001",
        "request": "74951234567@carrier.example",
        "timestamp": ENDED,
        "custom_channel_vars": {"account_id": ACCOUNT, "resource_id": "carrier-1", "authorizing_type": "account"},
    }
    doc.update(overrides)
    return {key: value for key, value in doc.items() if value is not None}


@pytest.mark.parametrize(
    "switch_direction, resource_id, authorizing_type, expected",
    [
        ("outbound", "carrier-1", None, OUTBOUND),  # stepswitch's leg to the carrier
        ("inbound", None, "device", None),  # the phone's leg of that same call
        ("inbound", None, "resource", INBOUND),  # a carrier's call into the switch
        ("inbound", "carrier-1", None, INBOUND),
        ("outbound", None, None, None),  # the switch ringing a phone: on-net
        ("outbound", None, "resource", None),  # the phone's leg of a carrier's call
        (None, "carrier-1", "resource", None),  # no direction: nothing to decide by
    ],
)
def test_only_the_leg_that_faces_a_carrier_is_billed(switch_direction, resource_id, authorizing_type, expected):
    assert billed_direction(switch_direction, resource_id, authorizing_type) == expected


@pytest.mark.parametrize(
    "switch_direction, resource_id, authorizing_type, resource_type, expected",
    [
        ("outbound", "carrier-1", None, "offnet-termination", OUTBOUND),  # stepswitch's gateway endpoint
        ("inbound", "carrier-1", "resource", "offnet-origination", INBOUND),  # a carrier's call, resource known
        ("inbound", None, None, "offnet-origination", INBOUND),  # ... and not known (no reverse lookup match)
        ("outbound", ACCOUNT, None, "onnet-termination", None),  # the loopback to another account
        ("inbound", ACCOUNT, "resource", "onnet-origination", None),  # its other half
        ("outbound", "carrier-1", None, "audio", None),  # an originated call's kind, not a carrier's leg
        ("inbound", "carrier-1", None, "offnet-termination", None),  # the kind and the direction disagree
        (None, "carrier-1", "resource", "offnet-termination", None),
    ],
)
def test_kazoo_4s_resource_type_alone_tells_a_carrier_leg(
    switch_direction, resource_id, authorizing_type, resource_type, expected
):
    assert billed_direction(switch_direction, resource_id, authorizing_type, resource_type) == expected


def test_a_cdr_of_an_on_net_leg_names_a_resource_and_bills_nothing():
    doc = cdr(
        custom_channel_vars={"account_id": ACCOUNT, "resource_id": "b" * 32, "resource_type": "onnet-termination"}
    )
    assert call_from_cdr(doc).offnet is False


def test_a_cdr_carries_the_levels_jonny5_debits_itself():
    doc = cdr(
        custom_channel_vars={
            "account_id": ACCOUNT,
            "resource_id": "carrier-1",
            "resource_type": "offnet-termination",
            "account_billing": "per_minute",
            "rate": "12000",
            "reseller_id": "c" * 32,
        }
    )
    billed = call_from_cdr(doc)
    assert (billed.offnet, billed.jonny5_levels, billed.kazoo_reseller_id) == (True, (ACCOUNT_LEVEL,), "c" * 32)


def test_an_outbound_call_is_rated_by_the_number_called_and_an_inbound_one_by_the_number_called_in_on():
    assert rated_number(OUTBOUND, "+7 495 123-45-67", "999@carrier") == "74951234567"
    assert rated_number(OUTBOUND, None, "74951234567@carrier") == "74951234567"
    assert rated_number(INBOUND, "+15550001111", "+74957654321@kazoo") == "74957654321"
    assert rated_number(INBOUND, "+74957654321", None) == "74957654321"


def test_a_cdr_of_the_carrier_leg_is_an_off_net_outbound_call():
    assert call_from_cdr(cdr()) == FinishedCall(
        ACCOUNT, "b-leg-1", 125, "74951234567", OUTBOUND, True, ENDED, caller="74950000001"
    )


def test_channel_variables_are_read_in_either_spelling_and_digits_as_strings():
    doc = cdr(billing_seconds="125", custom_channel_vars={"Account-ID": ACCOUNT, "Resource-ID": "carrier-1"})
    assert call_from_cdr(doc) == FinishedCall(
        ACCOUNT, "b-leg-1", 125, "74951234567", OUTBOUND, True, ENDED, caller="74950000001"
    )


def test_a_cdr_of_the_phones_leg_is_on_net():
    call = call_from_cdr(
        cdr(call_direction="inbound", custom_channel_vars={"account_id": ACCOUNT, "authorizing_type": "device"})
    )
    assert call is not None and call.offnet is False


def test_an_unanswered_cdr_or_one_without_an_account_bills_nothing():
    assert call_from_cdr(cdr(billing_seconds=0)) is None
    assert call_from_cdr(cdr(custom_channel_vars={"resource_id": "carrier-1"})) is None


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"call_id": None}, "call_id"),
        ({"billing_seconds": "4.2"}, "billing_seconds"),
        ({"billing_seconds": -1}, "billing_seconds"),
        ({"billing_seconds": True}, "billing_seconds"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": 1_750_000_000}, "timestamp"),  # Unix seconds would date the call in year 55
        ({"custom_channel_vars": {"account_id": ["x"]}}, "custom_channel_vars.account_id"),
        ({"custom_channel_vars": {"account_id": ACCOUNT, "resource_type": 7}}, "custom_channel_vars.resource_type"),
        (
            {"custom_channel_vars": {"account_id": ACCOUNT, "account_billing": "per_minute", "surcharge": "x"}},
            "custom_channel_vars.surcharge",
        ),
        ({"custom_channel_vars": ["account_id"]}, "custom_channel_vars"),
    ],
)
def test_a_cdr_that_cannot_be_billed_as_it_is_names_its_field(overrides, field):
    with pytest.raises(CallRecordError) as raised:
        call_from_cdr(cdr(**overrides))
    assert raised.value.field == field


LEG_FIELDS = st.fixed_dictionaries(
    {
        "resource_id": st.one_of(st.none(), st.just("carrier-1")),
        "authorizing_type": st.sampled_from([None, "device", "account", "resource", "user"]),
        "resource_type": st.sampled_from(
            [None, "offnet-termination", "offnet-origination", "onnet-termination", "onnet-origination", "audio"]
        ),
    }
)


@given(a_leg=LEG_FIELDS, b_leg=LEG_FIELDS)
def test_the_two_legs_of_a_call_are_never_both_billed_in_the_same_direction(a_leg, b_leg):
    """The A-leg reaches the switch, the B-leg leaves it; whatever Kazoo sets on each, at most one
    of them is outbound and at most one inbound, so a call is never charged twice one way."""
    a = billed_direction("inbound", **a_leg)
    b = billed_direction("outbound", **b_leg)
    assert a != OUTBOUND and b != INBOUND
    assert (a, b).count(OUTBOUND) <= 1 and (a, b).count(INBOUND) <= 1
