"""Kazoo 4.3's messages that Kazbill used to misread or ignore, parsed as Kazoo builds them
(testkit/support/kazoo_amqp.py): which leg of a call is a carrier's (Resource-Type), which levels
jonny5 debits itself, a services document changed, and the standing request and its answer."""

from __future__ import annotations

import json

import pytest

from actors.bridges.bookkeeper_messages import StandingRequested, parse_standing_request
from actors.bridges.kazoo_messages import finished_call, parse_call_event, parse_config_message
from actors.bridges.kazoo_replies import bookkeeper_standing_response, encode_doc_edited_notice
from actors.messages import DocumentChanged, RejectedMessage
from bookkeeper.domain.calls import ACCOUNT_LEVEL, INBOUND, OUTBOUND, RESELLER_LEVEL
from testkit.support import kazoo_amqp as kazoo

ACCOUNT = "4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
RESELLER = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
NOW = 63_912_345_678
SERVER_ID = "targeted/kazoo_apps@kz1/kz_amqp_worker-1"


def call(ccv: dict, *, direction: str = "outbound", seconds: int = 61, **kwargs):
    key, body = kazoo.channel_destroy(
        "leg-1", ccv, direction=direction, billing_seconds=seconds, callee="+74951234567", timestamp=NOW, **kwargs
    )
    return parse_call_event(key, body, received_gregorian=NOW)


def rejected(result, field: str) -> RejectedMessage:
    assert isinstance(result, RejectedMessage), result
    assert (result.reason_code, result.field) == ("invalid_value", field), result.reason
    return result


# --- which leg is a carrier's -------------------------------------------------------------------


def test_the_leg_stepswitch_bridged_to_a_carriers_gateway_is_an_outbound_call():
    billed = finished_call(call(kazoo.offnet_termination_ccv(ACCOUNT, RESELLER)))
    assert (billed.offnet, billed.direction, billed.number) == (True, OUTBOUND, "74951234567")


def test_a_call_to_another_account_of_the_cluster_is_on_net_although_it_names_a_resource():
    ended = call(kazoo.onnet_termination_ccv(ACCOUNT, RESELLER, OTHER))
    assert ended.resource_id == OTHER and ended.resource_type == "onnet-termination"
    assert finished_call(ended).offnet is False
    # Its other half, reaching the target account, is on-net too.
    other_half = {"Account-ID": OTHER, "Resource-Type": "onnet-origination", "Resource-ID": OTHER}
    assert finished_call(call(other_half, direction="inbound")).offnet is False


def test_a_carriers_call_in_is_an_inbound_call_whether_or_not_its_resource_was_recognised():
    billed = finished_call(call(kazoo.offnet_origination_ccv(ACCOUNT), direction="inbound"))
    assert (billed.offnet, billed.direction) == (True, INBOUND)
    unrecognised = {"Account-ID": ACCOUNT, "Resource-Type": "offnet-origination"}  # no reverse lookup match
    assert finished_call(call(unrecognised, direction="inbound")).offnet is True


@pytest.mark.parametrize(
    "resource_type, direction",
    [
        ("audio", "outbound"),  # kapps_call:set_resource_type/2 on an originated call
        ("offnet-termination", "inbound"),  # the kind and the switch's direction disagree
        ("offnet-origination", "outbound"),
    ],
)
def test_any_other_kind_of_leg_is_not_billed_even_with_a_resource_id(resource_type, direction):
    ccv = {"Account-ID": ACCOUNT, "Resource-ID": "carrier-1", "Resource-Type": resource_type}
    assert finished_call(call(ccv, direction=direction)).offnet is False


def test_without_resource_type_older_kazoos_resource_id_still_marks_the_carrier_leg():
    ccv = {"Account-ID": ACCOUNT, "Resource-ID": "carrier-1", "Global-Resource": "false"}
    assert finished_call(call(ccv)).offnet is True


def test_a_resource_type_that_is_not_a_string_is_rejected_naming_it():
    ccv = {**kazoo.offnet_termination_ccv(ACCOUNT, RESELLER), "Resource-Type": ["offnet-termination"]}
    rejected(call(ccv), "Custom-Channel-Vars.Resource-Type")


# --- the levels jonny5 debits itself ------------------------------------------------------------


def test_a_leg_jonny5_authorised_per_minute_with_a_rate_is_debited_by_jonny5_at_that_level():
    ended = call(kazoo.offnet_termination_ccv(ACCOUNT, RESELLER, **kazoo.jonny5_per_minute_ccv(12_000)))
    billed = finished_call(ended)
    assert billed.jonny5_levels == (ACCOUNT_LEVEL,) and billed.jonny5_payers(RESELLER) == {ACCOUNT}
    both = finished_call(
        call(kazoo.offnet_termination_ccv(ACCOUNT, RESELLER, **kazoo.jonny5_per_minute_ccv(12_000, reseller=True)))
    )
    assert both.jonny5_levels == (ACCOUNT_LEVEL, RESELLER_LEVEL) and both.jonny5_payers(OTHER) == {ACCOUNT, RESELLER}


@pytest.mark.parametrize(
    "ccv",
    [
        {"Account-Billing": "limits_enforced", "Rate": "12000"},  # trunks, not per minute
        {"Account-Billing": "per_minute"},  # no rate on the leg: jonny5's cost is 0, it writes nothing
        {"Account-Billing": "per_minute", "Rate": "12000", "Rate-NoCharge-Time": "61"},
        {"Account-Billing": "per_minute", "Rate": "12000", "Billing-Seconds-Offset": "61"},
    ],
)
def test_jonny5_writes_nothing_where_it_does_not_bill_per_minute_or_the_call_costs_nothing(ccv):
    assert finished_call(call(kazoo.offnet_termination_ccv(ACCOUNT, RESELLER, **ccv))).jonny5_levels == ()


def test_jonny5s_reseller_is_the_legs_reseller_id_else_the_accounts_and_an_own_reseller_is_one_level():
    billed = finished_call(
        call(
            kazoo.offnet_termination_ccv(
                ACCOUNT,
                RESELLER,
                **{**kazoo.jonny5_per_minute_ccv(12_000, reseller=True), "Account-Billing": "flat_rate"},
            )
        )
    )
    assert billed.jonny5_payers(OTHER) == {RESELLER}
    own = finished_call(
        call({**kazoo.offnet_termination_ccv(ACCOUNT, ACCOUNT), **kazoo.jonny5_per_minute_ccv(12_000, reseller=True)})
    )
    assert own.jonny5_payers(ACCOUNT) == {ACCOUNT}
    # An account that is its own reseller is debited by its reseller billing only.
    own_account_billing = finished_call(
        call({**kazoo.offnet_termination_ccv(ACCOUNT, ACCOUNT), **kazoo.jonny5_per_minute_ccv(12_000)})
    )
    assert own_account_billing.jonny5_payers(ACCOUNT) == frozenset()


@pytest.mark.parametrize(
    "ccv, field",
    [
        ({"Account-Billing": {"per": "minute"}}, "Custom-Channel-Vars.Account-Billing"),
        ({"Reseller-Billing": 1}, "Custom-Channel-Vars.Reseller-Billing"),
        ({"Account-Billing": "per_minute", "Rate": "twelve"}, "Custom-Channel-Vars.Rate"),
        (
            {"Account-Billing": "per_minute", "Rate": "1", "Rate-NoCharge-Time": [6]},
            "Custom-Channel-Vars.Rate-NoCharge-Time",
        ),
    ],
)
def test_a_leg_that_cannot_tell_whether_jonny5_debits_it_is_rejected_naming_the_variable(ccv, field):
    rejected(call(kazoo.offnet_termination_ccv(ACCOUNT, RESELLER, **ccv)), field)


# --- a services document changed in Kazoo -------------------------------------------------------


def test_a_plan_assigned_in_kazoo_is_a_change_of_the_accounts_services_document():
    key, body = kazoo.services_doc_edited(ACCOUNT, "7-a1b2")
    assert key == f"doc_edited.services.service.{ACCOUNT}"
    assert parse_config_message(key, body, received_gregorian=NOW) == DocumentChanged(
        ACCOUNT, "services", "service", ACCOUNT, "edited", "7-a1b2", False, "amqp", NOW
    )


def test_kazbills_own_plan_assignment_announced_on_the_exchange_is_billed_too():
    key, body = encode_doc_edited_notice(
        "services", "service", ACCOUNT, "3-c", ACCOUNT, node="kazbill@b1", app_version="1"
    )
    assert isinstance(parse_config_message(key, body, received_gregorian=NOW, own_node="kazbill@b1"), DocumentChanged)
    key, body = encode_doc_edited_notice(
        f"account%2F{ACCOUNT[:2]}%2F{ACCOUNT[2:4]}%2F{ACCOUNT[4:]}",
        "limits",
        "limits",
        "3-c",
        ACCOUNT,
        node="kazbill@b1",
        app_version="1",
    )
    assert parse_config_message(key, body, received_gregorian=NOW, own_node="kazbill@b1") is None


@pytest.mark.parametrize(
    "doc_id, extra, code, field",
    [
        ("services-not-an-account", {"Account-ID": None}, "unknown_account", "Account-ID"),
        (ACCOUNT, {"Account-ID": OTHER}, "inconsistent", "Account-ID"),
        (ACCOUNT, {"Type": "service_plan"}, "inconsistent", "Type"),
    ],
)
def test_a_services_change_that_names_no_account_or_contradicts_itself_is_rejected(doc_id, extra, code, field):
    key, body = kazoo.doc_update("edited", "services", "service", doc_id, account_id=ACCOUNT, rev="1-a", **extra)
    result = parse_config_message(key, body, received_gregorian=NOW)
    assert isinstance(result, RejectedMessage) and (result.reason_code, result.field) == (code, field)


# --- the standing request -----------------------------------------------------------------------


def test_a_standing_request_for_the_kazbill_bookkeeper_names_the_account_and_where_to_answer():
    assert parse_standing_request(*kazoo.standing_req(ACCOUNT, SERVER_ID, msg_id="m-1")) == StandingRequested(
        ACCOUNT, "bk-kazbill", "m-1", SERVER_ID
    )


def test_standing_requests_for_other_bookkeepers_are_not_ours():
    assert parse_standing_request(*kazoo.standing_req(ACCOUNT, SERVER_ID, bookkeeper_type="braintree")) is None


@pytest.mark.parametrize(
    "drop, extra, code, field",
    [
        (("Server-ID",), {}, "missing_field", "Server-ID"),
        (("Msg-ID",), {}, "missing_field", "Msg-ID"),
        (("Account-ID",), {}, "missing_field", "Account-ID"),
        ((), {"Account-ID": "not-an-account"}, "invalid_value", "Account-ID"),
        ((), {"Event-Name": "update_req"}, "inconsistent", "Event-Name"),
    ],
)
def test_a_standing_request_that_cannot_be_answered_is_rejected_naming_the_field(drop, extra, code, field):
    result = parse_standing_request(*kazoo.standing_req(ACCOUNT, SERVER_ID, drop=drop, **extra))
    assert isinstance(result, RejectedMessage) and (result.reason_code, result.field) == (code, field)


def test_the_standing_answer_goes_to_the_requesters_queue_in_kapi_bookkeepers_shape():
    request = StandingRequested(ACCOUNT, "bk", "m-9", SERVER_ID)
    key, body = bookkeeper_standing_response(
        request,
        status="delinquent",
        reason="delinquent",
        message="balance -5.00 below credit line",
        details={"blocked": False},
        app_version="1.0",
        node="kazbill@b1",
    )
    assert key == SERVER_ID
    assert json.loads(body) == {
        "Event-Category": "bookkeepers",
        "Event-Name": "standing_resp",
        "App-Name": "kazbill",
        "App-Version": "1.0",
        "Node": "kazbill@b1",
        "Server-ID": "",
        "Msg-ID": "m-9",
        "Status": "delinquent",
        "Reason": "delinquent",
        "Message": "balance -5.00 below credit line",
        "Details": {"blocked": False},
    }
    with pytest.raises(ValueError):
        bookkeeper_standing_response(
            request, status="success", reason=None, message=None, details=None, app_version="1.0", node="kazbill@b1"
        )
