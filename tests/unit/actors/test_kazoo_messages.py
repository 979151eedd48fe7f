"""Kazoo's AMQP payloads at the edge: what Kazoo really sends, and what Kazbill makes of it.

Payloads are built here in Kazoo's shapes (kapi_conf doc_update, kapi_call event,
kapi_bookkeepers update_req), quirks included: swapped Date-Created/Date-Modified, Billing-Seconds
as a string, routing-key ids encoded by kz_amqp_util:encode/1.
"""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.bridges.kazoo_messages import (
    RELEVANT_DOC_TYPES,
    decode_routing_key_segment,
    encode_routing_key_segment,
    finished_call,
    parse_bookkeeper_request,
    parse_call_event,
    parse_config_message,
)
from actors.bridges.kazoo_replies import bookkeeper_update_response, encode_doc_edited_notice
from actors.messages import (
    PAYLOAD_TEXT_LIMIT,
    BookkeeperSyncRequested,
    CallEnded,
    DocumentChanged,
    RejectedMessage,
)
from bookkeeper.domain.calls import FinishedCall

ACCOUNT_ID = "4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
OTHER_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
RESELLER_ID = "account0000000000000000000044944"  # Kazoo's fixtures use ids like this one
ACCOUNT_DB = "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
ACCOUNT_DB_ENCODED = "account%2F4f%2Fd3%2Fb7c0a2e1d4f5b6c7d8e9f0a1b2c3"
NOW = 63_912_345_678  # Gregorian seconds, in 2025
KAZOO_NODE = "kazoo_apps@kz1.example.net"
DROP = object()


def _without_dropped(fields: dict) -> dict:
    return {key: value for key, value in fields.items() if value is not DROP}


def doc_update(action: str, db: str, doc_type: str, doc_id: str, **overrides) -> tuple[str, bytes]:
    """What kzs_publish:publish/3 sends, keyed as kz_amqp_util:document_routing_key/4 keys it."""
    body = {
        "Event-Category": "configuration",
        "Event-Name": f"doc_{action}",
        "ID": doc_id,
        "Rev": "2-9f0c3e",
        "Type": doc_type,
        "Database": db,
        "Account-ID": ACCOUNT_ID,
        # Kazoo's bug: Date-Modified carries pvt_created and Date-Created carries pvt_modified.
        "Date-Modified": NOW - 86_400,
        "Date-Created": NOW,
        "Is-Soft-Deleted": False,
        "Origin-Cache": "kazoo_data_cache",
        "App-Name": "kazoo_data",
        "App-Version": "4.3.142",
        "Node": KAZOO_NODE,
        "Server-ID": "",
        "Msg-ID": "3c1f5e0a",
    }
    body.update({key.replace("_", "-"): value for key, value in overrides.items()})
    routing_key = f"doc_{action}.{db}.{doc_type}.{encode_routing_key_segment(doc_id)}"
    return routing_key, json.dumps(_without_dropped(body)).encode()


def call_destroy(call_id: str = "7f3a9c2e-1b4d@10.0.0.5", **overrides) -> tuple[str, bytes]:
    body = {
        "Event-Category": "call_event",
        "Event-Name": "CHANNEL_DESTROY",
        "Call-ID": call_id,
        "Billing-Seconds": "42",
        "Duration-Seconds": "51",
        "Ringing-Seconds": "9",
        "Call-Direction": "outbound",
        "Other-Leg-Call-ID": "a-leg-1",
        "Caller-ID-Number": "+15550001111",
        "Callee-ID-Number": "+15552223333",
        "Request": "+15552223333@sip.example.net",
        "Hangup-Cause": "NORMAL_CLEARING",
        "Timestamp": NOW,
        "Custom-Channel-Vars": {"Account-ID": ACCOUNT_ID, "Reseller-ID": RESELLER_ID, "Authorizing-Type": "device"},
        "App-Name": "ecallmgr",
        "App-Version": "4.3.142",
        "Node": "ecallmgr@fs1.example.net",
    }
    body.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return f"call.CHANNEL_DESTROY.{encode_routing_key_segment(call_id)}", json.dumps(_without_dropped(body)).encode()


def update_req(bookkeeper_type: str = "kazbill", **overrides) -> tuple[str, bytes]:
    body = {
        "Event-Category": "bookkeepers",
        "Event-Name": "update_req",
        "Account-ID": ACCOUNT_ID,
        "Bookkeeper-ID": "bk-1",
        "Bookkeeper-Type": bookkeeper_type,
        "Vendor-ID": RESELLER_ID,
        "Invoice": {"items": []},
        "Audit-Log": {"audit": {}},
        "Msg-ID": "msg-77",
        "Server-ID": "targeted/kazoo_apps@kz1/services-queue",
        "App-Name": "kazoo_services",
        "App-Version": "4.3.142",
        "Node": KAZOO_NODE,
    }
    body.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return "bookkeepers.update.request", json.dumps(_without_dropped(body)).encode()


def parse_doc(routing_key: str, body: bytes):
    return parse_config_message(routing_key, body, received_gregorian=NOW)


def parse_call(routing_key: str, body: bytes):
    return parse_call_event(routing_key, body, received_gregorian=NOW)


def assert_rejected(result, reason_code: str, field: str) -> RejectedMessage:
    assert isinstance(result, RejectedMessage), result
    assert (result.reason_code, result.field) == (reason_code, field), result.reason
    assert result.source == "amqp"
    return result


# --- routing-key segments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("+15551234567", "%2B15551234567"),
        ("routing.key", "routing%2Ekey"),
        ("test&.192. 168", "test%26%2E192%2E+168"),  # from kz_amqp_util's own eunit test
        ("user_name-1~x", "user_name-1~x"),  # Kazoo's KEY_SAFE keeps "~" as well
        ("café", "caf%C3%A9"),
        ("*", "*"),
        ("#", "#"),
    ],
)
def test_routing_key_segments_are_encoded_as_kazoo_encodes_them(raw, encoded):
    assert encode_routing_key_segment(raw) == encoded
    assert decode_routing_key_segment(encoded) == raw


@given(st.text())
def test_decoding_an_encoded_segment_gives_back_any_text(text):
    encoded = encode_routing_key_segment(text)
    assert "." not in encoded
    assert decode_routing_key_segment(encoded) == text


# --- document changes -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["created", "edited", "deleted"])
@pytest.mark.parametrize(
    ("doc_type", "doc_id"),
    [
        ("user", "8a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        ("device", "d1e2v3i4c5e6"),
        ("limits", "limits"),
        ("phone_numbers", "phone_numbers"),
    ],
)
@pytest.mark.parametrize("db", [ACCOUNT_DB_ENCODED, ACCOUNT_DB])
def test_a_change_to_a_billable_document_in_an_account_database_becomes_a_document_changed(
    action, doc_type, doc_id, db
):
    result = parse_doc(*doc_update(action, db, doc_type, doc_id))
    assert result == DocumentChanged(
        account_id=ACCOUNT_ID,
        database=ACCOUNT_DB,
        doc_type=doc_type,
        doc_id=doc_id,
        action=action,
        rev="2-9f0c3e",
        soft_deleted=False,
        source="amqp",
        received_gregorian=NOW,
    )


def test_an_account_document_in_the_accounts_database_names_its_own_account():
    result = parse_doc(*doc_update("edited", "accounts", "account", ACCOUNT_ID, Account_ID=DROP))
    assert isinstance(result, DocumentChanged)
    assert (result.account_id, result.database, result.doc_type) == (ACCOUNT_ID, "accounts", "account")


def test_without_an_account_id_header_the_account_comes_from_the_database_name():
    for account_header in (DROP, "undefined", ""):
        result = parse_doc(*doc_update("edited", ACCOUNT_DB_ENCODED, "device", "d1", Account_ID=account_header))
        assert isinstance(result, DocumentChanged) and result.account_id == ACCOUNT_ID


def test_a_document_in_a_monthly_database_belongs_to_that_account():
    modb = ACCOUNT_DB_ENCODED + "-202611"
    result = parse_doc(*doc_update("created", modb, "periodic_fee", "202611-fee-1", Account_ID=DROP))
    assert isinstance(result, DocumentChanged)
    assert (result.account_id, result.database) == (ACCOUNT_ID, ACCOUNT_DB + "-202611")


@pytest.mark.parametrize("doc_id", ["+15551234567", "+1555.123 4567"])
def test_an_id_encoded_in_the_routing_key_is_decoded_and_matches_the_body(doc_id):
    routing_key, body = doc_update("created", ACCOUNT_DB_ENCODED, "number", doc_id)
    assert routing_key.split(".")[3] != doc_id and len(routing_key.split(".")) == 4
    result = parse_doc(routing_key, body)
    assert isinstance(result, DocumentChanged) and result.doc_id == doc_id


def test_the_number_id_plus_one_five_five_five_travels_as_percent_2b():
    routing_key, _ = doc_update("edited", ACCOUNT_DB_ENCODED, "number", "+15551234567")
    assert routing_key == f"doc_edited.{ACCOUNT_DB_ENCODED}.number.%2B15551234567"


def test_the_swapped_date_headers_are_ignored_whatever_they_hold():
    for created, modified in ((NOW, NOW - 86_400), ("yesterday", None), ({"x": 1}, [1])):
        result = parse_doc(
            *doc_update("edited", ACCOUNT_DB, "user", "u1", Date_Created=created, Date_Modified=modified)
        )
        assert isinstance(result, DocumentChanged) and result.action == "edited"


def test_a_soft_delete_arrives_as_doc_deleted_with_is_soft_deleted():
    result = parse_doc(*doc_update("deleted", ACCOUNT_DB_ENCODED, "device", "d1", Is_Soft_Deleted=True))
    assert isinstance(result, DocumentChanged)
    assert (result.action, result.soft_deleted) == ("deleted", True)


def test_a_hard_delete_is_a_deletion_that_is_not_soft():
    result = parse_doc(*doc_update("deleted", ACCOUNT_DB_ENCODED, "device", "d1"))
    assert isinstance(result, DocumentChanged)
    assert (result.action, result.soft_deleted) == ("deleted", False)


def test_a_soft_delete_routed_as_an_edit_is_still_a_deletion():
    # kzs_publish names the event after the doc's deleted flags, not after the routed action.
    routing_key, body = doc_update(
        "edited", ACCOUNT_DB_ENCODED, "user", "u1", Event_Name="doc_deleted", Is_Soft_Deleted="true"
    )
    result = parse_doc(routing_key, body)
    assert isinstance(result, DocumentChanged)
    assert (result.action, result.soft_deleted) == ("deleted", True)


@pytest.mark.parametrize("doc_type", ["vmbox", "callflow", "media", "undefined"])
def test_documents_kazbill_does_not_bill_by_are_ignored_not_poison(doc_type):
    assert parse_doc(*doc_update("edited", ACCOUNT_DB_ENCODED, doc_type, "x1")) is None
    # not even a broken body makes them Kazbill's business
    assert parse_doc(f"doc_edited.{ACCOUNT_DB_ENCODED}.{doc_type}.x1", b"{broken") is None


def test_database_events_and_doc_type_updates_are_ignored():
    body = json.dumps(
        {
            "Event-Category": "configuration",
            "Event-Name": "db_created",
            "Type": "database",
            "ID": ACCOUNT_DB_ENCODED,
            "Database": ACCOUNT_DB_ENCODED,
        }
    ).encode()
    key = f"db_created.{ACCOUNT_DB_ENCODED}.database.{encode_routing_key_segment(ACCOUNT_DB_ENCODED)}"
    assert parse_doc(key, body) is None
    assert parse_doc("configuration.doc_type_update.user", b"{}") is None


def test_number_documents_in_the_shared_numbers_databases_are_ignored():
    assert parse_doc(*doc_update("edited", "numbers%2F%2B1555", "number", "+15551234567", Account_ID=DROP)) is None


def test_the_relevant_types_use_kazoos_pvt_type_spellings():
    assert {
        "account",
        "user",
        "device",
        "phone_numbers",
        "number",
        "limits",
        "credit",
        "service_plan",
        "periodic_fee",
        "onbill",
        "service",
    } == RELEVANT_DOC_TYPES


# --- document changes that can never be processed -----------------------------------------


@pytest.mark.parametrize(
    ("body", "reason_code"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe\xfa", "malformed_json"),
        (b"", "malformed_json"),
        (b"[1, 2]", "not_an_object"),
        (b'"doc_edited"', "not_an_object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_rejected(body, reason_code):
    routing_key = f"doc_edited.{ACCOUNT_DB_ENCODED}.user.u1"
    rejected = assert_rejected(parse_doc(routing_key, body), reason_code, "body")
    assert rejected.routing_key == routing_key
    assert rejected.payload_text == body.decode("utf-8", "replace")


@pytest.mark.parametrize("field", ["Database", "ID"])
@pytest.mark.parametrize("value", [DROP, ""])
def test_a_missing_or_empty_required_header_is_rejected_naming_it(field, value):
    result = parse_doc(*doc_update("edited", ACCOUNT_DB_ENCODED, "user", "u1", **{field: value}))
    assert_rejected(result, "missing_field", field)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"Event-Name": "doc_created"}, "Event-Name"),
        ({"Event-Category": "call_event"}, "Event-Category"),
        ({"ID": "someone-else"}, "ID"),
        ({"Database": "account%2F01%2F23%2F456789abcdef0123456789abcdef"}, "Database"),
        ({"Type": "device"}, "Type"),
        ({"Account-ID": OTHER_ACCOUNT_ID}, "Account-ID"),
    ],
)
def test_a_body_that_contradicts_its_routing_key_is_rejected_as_inconsistent(overrides, field):
    routing_key, body = doc_update("edited", ACCOUNT_DB_ENCODED, "user", "u1")
    body = json.dumps({**json.loads(body), **overrides}).encode()
    assert_rejected(parse_doc(routing_key, body), "inconsistent", field)


@pytest.mark.parametrize(
    ("db", "doc_type"),
    [
        ("system_config", "limits"),
        ("ratedeck", "credit"),
        ("services", "service_plan"),
        ("accounts", "user"),  # only account documents live in `accounts`
    ],
)
def test_a_billable_type_outside_an_account_database_is_rejected(db, doc_type):
    assert_rejected(parse_doc(*doc_update("edited", db, doc_type, "x1")), "not_account_database", "Database")


def test_an_account_document_whose_account_cannot_be_told_is_rejected():
    result = parse_doc(*doc_update("edited", "accounts", "account", "not-an-account", Account_ID=DROP))
    assert_rejected(result, "unknown_account", "Account-ID")


@pytest.mark.parametrize(
    "routing_key",
    [
        f"doc_edited.{ACCOUNT_DB_ENCODED}.user",
        f"doc_edited.{ACCOUNT_DB_ENCODED}.user.u1.extra",
        "doc_moved.accounts.account.x",
        "",
    ],
)
def test_a_routing_key_of_the_wrong_shape_is_rejected(routing_key):
    assert_rejected(parse_doc(routing_key, b"{}"), "malformed_routing_key", "routing_key")


def test_a_soft_delete_flag_that_is_not_a_boolean_is_rejected():
    result = parse_doc(*doc_update("deleted", ACCOUNT_DB_ENCODED, "user", "u1", Is_Soft_Deleted=[True]))
    assert_rejected(result, "invalid_value", "Is-Soft-Deleted")


def test_a_rejected_payload_is_kept_as_text_cut_at_64_kib():
    body = b"{" + b"x" * (PAYLOAD_TEXT_LIMIT * 2)
    rejected = assert_rejected(parse_doc(f"doc_edited.{ACCOUNT_DB}.user.u1", body), "malformed_json", "body")
    assert rejected.payload_text == body[:PAYLOAD_TEXT_LIMIT].decode()


# --- call events --------------------------------------------------------------------------------


def test_a_channel_destroy_becomes_a_call_ended_with_billing_seconds_from_a_string():
    result = parse_call(*call_destroy())
    assert result == CallEnded(
        account_id=ACCOUNT_ID,
        call_id="7f3a9c2e-1b4d@10.0.0.5",
        leg="b",
        billing_seconds=42,
        duration_seconds=51,
        direction="outbound",
        caller="+15550001111",
        callee="+15552223333",
        reseller_id=RESELLER_ID,
        timestamp_gregorian=NOW,
        hangup_cause="NORMAL_CLEARING",
        received_gregorian=NOW,
        resource_id=None,
        authorizing_type="device",
        request="+15552223333",
    )


def test_the_call_id_in_the_routing_key_is_encoded():
    routing_key, _ = call_destroy()
    assert routing_key == "call.CHANNEL_DESTROY.7f3a9c2e-1b4d%4010%2E0%2E0%2E5"


def test_billing_seconds_sent_as_an_integer_are_accepted_too():
    result = parse_call(*call_destroy(Billing_Seconds=42, Duration_Seconds=51))
    assert isinstance(result, CallEnded) and (result.billing_seconds, result.duration_seconds) == (42, 51)


def test_an_unanswered_call_is_still_a_call_ended_for_the_rater():
    result = parse_call(*call_destroy(Billing_Seconds="0"))
    assert isinstance(result, CallEnded) and result.billing_seconds == 0


def test_an_answered_call_without_an_account_is_rejected():
    result = parse_call(*call_destroy(Custom_Channel_Vars={"Authorizing-Type": "resource"}))
    assert_rejected(result, "missing_field", "Custom-Channel-Vars.Account-ID")
    assert_rejected(
        parse_call(*call_destroy(Custom_Channel_Vars=DROP)), "missing_field", "Custom-Channel-Vars.Account-ID"
    )


def test_an_unanswered_call_without_an_account_is_ignored():
    # SIP scanners and calls refused before routing: nothing to bill, nobody to bill it to.
    assert parse_call(*call_destroy(Billing_Seconds="0", Custom_Channel_Vars={})) is None


@pytest.mark.parametrize("seconds", ["forty-two", "4.2", "-3", -3, True, [42], "", DROP])
def test_billing_seconds_that_are_not_a_whole_non_negative_number_are_rejected(seconds):
    code = "missing_field" if seconds in ("", DROP) else "invalid_value"
    assert_rejected(parse_call(*call_destroy(Billing_Seconds=seconds)), code, "Billing-Seconds")


def test_a_timestamp_in_unix_seconds_is_rejected_rather_than_billed_in_year_54():
    assert_rejected(parse_call(*call_destroy(Timestamp=1_750_000_000)), "invalid_value", "Timestamp")
    result = parse_call(*call_destroy(Timestamp=str(NOW)))
    assert isinstance(result, CallEnded) and result.timestamp_gregorian == NOW


def test_a_call_event_without_its_call_id_or_with_another_one_is_rejected():
    _, body = call_destroy(Call_ID=DROP)
    assert_rejected(parse_call("call.CHANNEL_DESTROY.abc", body), "missing_field", "Call-ID")
    assert_rejected(parse_call("call.CHANNEL_DESTROY.other", call_destroy("abc")[1]), "inconsistent", "Call-ID")


@pytest.mark.parametrize("event", ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "DTMF"])
def test_call_events_other_than_channel_destroy_are_ignored(event):
    assert parse_call(f"call.{event}.abc", b"not even json") is None


def test_a_routing_key_that_is_not_a_call_event_is_rejected():
    assert_rejected(parse_call("callevt.whatever", b"{}"), "malformed_routing_key", "routing_key")


@pytest.mark.parametrize(
    ("fields", "leg"),
    [
        ({"Call-Direction": "inbound"}, "a"),
        ({"Call-Direction": "outbound"}, "b"),
        ({"Call-Direction": DROP, "Other-Leg-Call-ID": DROP}, "a"),
        ({"Call-Direction": DROP}, None),
    ],
)
def test_the_leg_follows_the_call_direction_or_the_absence_of_another_leg(fields, leg):
    result = parse_call(*call_destroy(**{key.replace("-", "_"): value for key, value in fields.items()}))
    assert isinstance(result, CallEnded) and result.leg == leg


def test_without_a_callee_number_the_callee_is_the_user_part_of_the_request():
    result = parse_call(*call_destroy(Callee_ID_Number=DROP))
    assert isinstance(result, CallEnded) and result.callee == "+15552223333"


def test_the_carrier_leg_of_a_channel_destroy_is_an_off_net_call_rated_by_the_number_called():
    ended = parse_call(*call_destroy(Custom_Channel_Vars={"Account-ID": ACCOUNT_ID, "Resource-ID": "carrier-1"}))
    assert finished_call(ended) == FinishedCall(
        ACCOUNT_ID, "7f3a9c2e-1b4d@10.0.0.5", 42, "15552223333", "outbound", True, NOW, caller="15550001111"
    )


def test_a_carriers_call_in_is_rated_by_the_number_it_called_and_dated_by_receipt_without_a_timestamp():
    ended = parse_call(
        *call_destroy(
            Call_Direction="inbound",
            Timestamp=DROP,
            Callee_ID_Number="+15550009999",
            Custom_Channel_Vars={"Account-ID": ACCOUNT_ID, "Authorizing-Type": "resource"},
        )
    )
    call = finished_call(ended)
    assert (call.direction, call.offnet, call.number, call.ended_gregorian) == ("inbound", True, "15552223333", NOW)


def test_the_phones_leg_of_a_channel_destroy_is_on_net():
    assert finished_call(parse_call(*call_destroy())).offnet is False


# --- bookkeeper requests and replies ----------------------------------------------------------


def test_an_update_request_for_the_kazbill_bookkeeper_becomes_a_sync_request():
    assert parse_bookkeeper_request(*update_req(Dry_Run="true")) == BookkeeperSyncRequested(
        account_id=ACCOUNT_ID,
        bookkeeper_id="bk-1",
        bookkeeper_type="kazbill",
        msg_id="msg-77",
        server_id="targeted/kazoo_apps@kz1/services-queue",
        dry_run=True,
    )


@pytest.mark.parametrize("bookkeeper_type", ["braintree", "local", "default", DROP])
def test_an_update_request_for_another_bookkeeper_is_not_ours(bookkeeper_type):
    assert parse_bookkeeper_request(*update_req(bookkeeper_type)) is None


def test_the_update_parser_reads_update_requests_only():  # standing requests: parse_standing_request
    _, body = update_req()
    assert parse_bookkeeper_request("bookkeepers.standing.request", body) is None
    assert parse_bookkeeper_request("bookkeepers.update.response", body) is None


@pytest.mark.parametrize("field", ["Account-ID", "Msg-ID", "Server-ID"])
def test_an_update_request_without_a_required_header_is_rejected(field):
    assert_rejected(parse_bookkeeper_request(*update_req(**{field: DROP})), "missing_field", field)


def test_an_update_reply_goes_to_the_requesters_queue_with_its_msg_id():
    request = parse_bookkeeper_request(*update_req())
    assert isinstance(request, BookkeeperSyncRequested)
    routing_key, body = bookkeeper_update_response(
        request,
        status="error",
        reason="no_payment_method",
        message="no card on file",
        details={"account_id": ACCOUNT_ID},
        app_version="0.1.0",
        node="kazbill@billing1",
    )
    assert routing_key == "targeted/kazoo_apps@kz1/services-queue"
    assert json.loads(body) == {
        "Event-Category": "bookkeepers",
        "Event-Name": "update_resp",
        "Msg-ID": "msg-77",
        "Status": "error",
        "Reason": "no_payment_method",
        "Message": "no card on file",
        "Details": {"account_id": ACCOUNT_ID},
        "App-Name": "kazbill",
        "App-Version": "0.1.0",
        "Node": "kazbill@billing1",
        "Server-ID": "",
    }


def test_an_update_reply_leaves_out_what_it_has_not_to_say_and_refuses_unknown_statuses():
    request = parse_bookkeeper_request(*update_req())
    _, body = bookkeeper_update_response(
        request, status="success", reason=None, message=None, details=None, app_version="0.1.0", node="kazbill@billing1"
    )
    assert not {"Reason", "Message", "Details"} & set(json.loads(body))
    with pytest.raises(ValueError):
        bookkeeper_update_response(
            request,
            status="good_standing",
            reason=None,
            message=None,
            details=None,
            app_version="0.1.0",
            node="kazbill@billing1",
        )


# --- the notice Kazbill publishes after writing a Kazoo-owned document ---------------------


def test_the_doc_edited_notice_keeps_the_exact_database_string_and_a_non_kazoo_node():
    routing_key, body = encode_doc_edited_notice(
        ACCOUNT_DB_ENCODED, "limits", "limits", "7-a1b2", ACCOUNT_ID, node="kazbill@billing1", app_version="0.1.0"
    )
    assert routing_key == f"doc_edited.{ACCOUNT_DB_ENCODED}.limits.limits"
    notice = json.loads(body)
    assert {
        key: notice[key]
        for key in (
            "Event-Category",
            "Event-Name",
            "ID",
            "Rev",
            "Type",
            "Database",
            "Account-ID",
            "App-Name",
            "App-Version",
            "Node",
        )
    } == {
        "Event-Category": "configuration",
        "Event-Name": "doc_edited",
        "ID": "limits",
        "Rev": "7-a1b2",
        "Type": "limits",
        "Database": ACCOUNT_DB_ENCODED,
        "Account-ID": ACCOUNT_ID,
        "App-Name": "kazbill",
        "App-Version": "0.1.0",
        "Node": "kazbill@billing1",
    }
    assert (
        len(notice["Msg-ID"]) == 32
        and notice["Msg-ID"]
        != json.loads(
            encode_doc_edited_notice(
                ACCOUNT_DB_ENCODED, "limits", "limits", "7-a1b2", ACCOUNT_ID, node="n", app_version="v"
            )[1]
        )["Msg-ID"]
    )


@pytest.mark.parametrize(
    ("database", "doc_type", "doc_id"),
    [
        (ACCOUNT_DB_ENCODED, "limits", "limits"),
        (ACCOUNT_DB, "account", ACCOUNT_ID),
        ("accounts", "account", ACCOUNT_ID),
        (ACCOUNT_DB_ENCODED, "number", "+1555.123 4567"),
    ],
)
def test_the_doc_edited_notice_round_trips_through_the_parser(database, doc_type, doc_id):
    notice = encode_doc_edited_notice(
        database, doc_type, doc_id, "3-c", ACCOUNT_ID, node="kazbill@b1", app_version="0.1.0"
    )
    assert parse_doc(*notice) == DocumentChanged(
        account_id=ACCOUNT_ID,
        database=database.replace("%2F", "/"),
        doc_type=doc_type,
        doc_id=doc_id,
        action="edited",
        rev="3-c",
        soft_deleted=False,
        source="amqp",
        received_gregorian=NOW,
    )


def test_a_notice_that_would_break_the_routing_key_is_refused():
    with pytest.raises(ValueError):
        encode_doc_edited_notice("bad.db", "limits", "limits", "1-a", ACCOUNT_ID, node="n", app_version="v")
    with pytest.raises(ValueError):
        encode_doc_edited_notice(ACCOUNT_DB, "limits", "", "1-a", ACCOUNT_ID, node="n", app_version="v")


# --- the messages themselves ----------------------------------------------------------------


def test_messages_are_frozen_and_survive_pickling_across_actor_processes():
    message = parse_doc(*doc_update("edited", ACCOUNT_DB_ENCODED, "user", "u1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.action = "deleted"  # type: ignore[misc]
    rejected = parse_doc("doc_edited.accounts.user.u1", b"{")
    for item in (message, rejected, parse_call(*call_destroy()), parse_bookkeeper_request(*update_req())):
        assert pickle.loads(pickle.dumps(item)) == item
    assert all(isinstance(getattr(rejected, f.name), str) for f in dataclasses.fields(rejected))


# --- whatever arrives, the parsers answer --------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
kazoo_keys = st.sampled_from(
    [
        "Event-Category",
        "Event-Name",
        "ID",
        "Rev",
        "Type",
        "Database",
        "Account-ID",
        "Is-Soft-Deleted",
        "Call-ID",
        "Billing-Seconds",
        "Duration-Seconds",
        "Timestamp",
        "Custom-Channel-Vars",
        "Call-Direction",
        "Bookkeeper-Type",
        "Msg-ID",
        "Server-ID",
        "Dry-Run",
    ]
)
kazoo_like_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            ACCOUNT_ID,
            ACCOUNT_DB,
            ACCOUNT_DB_ENCODED,
            "accounts",
            "kazbill",
            "user",
            "account",
            "doc_edited",
            "doc_deleted",
            "42",
            "-1",
            "configuration",
        ]
    ),
    st.fixed_dictionaries({"Account-ID": st.sampled_from([ACCOUNT_ID, "x", 7])}),
)
kazoo_bodies = st.dictionaries(kazoo_keys, kazoo_like_values, max_size=10).map(lambda d: json.dumps(d).encode())
routing_keys = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{}.{}.{}.{}".format,
        st.sampled_from(["doc_created", "doc_edited", "doc_deleted", "db_created"]),
        st.sampled_from([ACCOUNT_DB, ACCOUNT_DB_ENCODED, "accounts", "numbers%2F%2B1", "x"]),
        st.sampled_from(sorted(RELEVANT_DOC_TYPES) + ["vmbox"]),
        st.text(max_size=12),
    ),
    st.builds("call.{}.{}".format, st.sampled_from(["CHANNEL_DESTROY", "CHANNEL_ANSWER"]), st.text(max_size=8)),
    st.sampled_from(["bookkeepers.update.request", "bookkeepers.standing.request"]),
)


@settings(max_examples=300)
@given(routing_keys, st.one_of(st.binary(max_size=200), kazoo_bodies))
def test_no_payload_makes_a_parser_raise(routing_key, body):
    assert isinstance(parse_doc(routing_key, body), (DocumentChanged, RejectedMessage, type(None)))
    assert isinstance(parse_call(routing_key, body), (CallEnded, RejectedMessage, type(None)))
    assert isinstance(
        parse_bookkeeper_request(routing_key, body), (BookkeeperSyncRequested, RejectedMessage, type(None))
    )


@given(st.binary(max_size=300))
def test_parse_config_message_answers_arbitrary_bytes_with_one_of_its_three_kinds(body):
    for routing_key in (f"doc_edited.{ACCOUNT_DB_ENCODED}.user.u1", "doc_edited.accounts.account.x"):
        assert isinstance(parse_doc(routing_key, body), (DocumentChanged, RejectedMessage, type(None)))


def test_kazbills_own_announcement_coming_back_is_not_billed_but_another_nodes_is():
    routing_key, body = encode_doc_edited_notice(
        ACCOUNT_DB_ENCODED, "limits", "limits", "7-a1b2", ACCOUNT_ID, node="kazbill@billing1", app_version="0.1.0"
    )
    assert parse_config_message(routing_key, body, received_gregorian=1, own_node="kazbill@billing1") is None
    seen = parse_config_message(routing_key, body, received_gregorian=1, own_node="kazbill@billing2")
    assert isinstance(seen, DocumentChanged) and (seen.account_id, seen.doc_id) == (ACCOUNT_ID, "limits")
