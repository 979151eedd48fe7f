"""Kazoo 4.3's AMQP messages, built the way Kazoo builds them, for the tests that play Kazoo.

Each builder follows the Erlang that publishes the message (file:line in Kazoo 4.3); only the
header lists and the routing keys are taken from there, the values are the test's. A builder
returns (routing key, body bytes); `drop` removes headers and `extra` adds or overrides them, so
that the malformed variants are the same message with one thing wrong.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from actors.bridges.kazoo_messages import encode_routing_key_segment

KAZOO_NODE = "kazoo_apps@kz1.example.net"
APP_VERSION = "4.3.142"


def _default_headers(category: str, name: str, app_name: str, server_id: str | None = None) -> dict[str, Any]:
    """kz_api:default_headers/5 (core/kazoo_amqp/src/api/kz_api.erl:197-205); Msg-ID is required
    of every message (core/kazoo_amqp/include/kz_api.hrl:62-68); Server-ID when a reply is expected."""
    headers = {
        "Event-Category": category,
        "Event-Name": name,
        "App-Name": app_name,
        "App-Version": APP_VERSION,
        "Node": KAZOO_NODE,
        "Msg-ID": uuid.uuid4().hex,
    }
    if server_id is not None:
        headers["Server-ID"] = server_id
    return headers


def _finish(routing_key: str, body: dict[str, Any], drop: tuple[str, ...], extra: dict[str, Any]) -> tuple[str, bytes]:
    body = {**{key: value for key, value in body.items() if key not in drop}, **extra}
    return routing_key, json.dumps(body).encode()


def doc_update(
    action: str,
    database: str,
    doc_type: str,
    doc_id: str,
    *,
    account_id: str | None,
    rev: str,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> tuple[str, bytes]:
    """kzs_publish:publish/3 (core/kazoo_data/src/kzs_publish.erl:147-174), keyed by
    kz_amqp_util:document_routing_key/4 (kz_amqp_util.erl:338-343: only the id is encoded), with
    its Date-Created/Date-Modified swap (lines 164-165)."""
    body = {
        "ID": doc_id,
        "Origin-Cache": "kazoo_data_cache",
        "Type": doc_type,
        "Database": database,
        "Rev": rev,
        "Account-ID": account_id,
        "Date-Modified": 63_900_000_000,
        "Date-Created": 63_900_086_400,
        "Is-Soft-Deleted": False,
        **_default_headers("configuration", f"doc_{action}", "kazoo_data"),
    }
    body = {key: value for key, value in body.items() if value is not None}  # props:filter_undefined
    return _finish(f"doc_{action}.{database}.{doc_type}.{encode_routing_key_segment(doc_id)}", body, drop, extra)


def services_doc_edited(account_id: str, rev: str, **kwargs: Any) -> tuple[str, bytes]:
    """A services document saved by kz_services:save_services_jobj/2 (kz_services.erl:1164-1184)
    into the `services` database, pvt_type "service" (kzd_services.erl:125), id and
    pvt_account_id the account's (kz_services.erl:912-920)."""
    return doc_update("edited", "services", "service", account_id, account_id=account_id, rev=rev, **kwargs)


def channel_destroy(
    call_id: str,
    ccv: dict[str, Any],
    *,
    direction: str,
    billing_seconds: int,
    callee: str,
    timestamp: int,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> tuple[str, bytes]:
    """A CHANNEL_DESTROY on `callevt`: kapi_call's call event (kapi_call.hrl:7-13 for the key,
    14-41 for the headers; Billing-Seconds travels as a string)."""
    body = {
        "Call-ID": call_id,
        "Call-Direction": direction,
        "Billing-Seconds": str(billing_seconds),
        "Duration-Seconds": str(billing_seconds + 6),
        "Callee-ID-Number": callee,
        "Caller-ID-Number": "+74950000001",
        "Request": f"{callee}@example.kazoo",
        "Hangup-Cause": "NORMAL_CLEARING",
        "Timestamp": timestamp,
        "Other-Leg-Call-ID": f"other-{call_id}",
        "Custom-Channel-Vars": ccv,
        **_default_headers("call_event", "CHANNEL_DESTROY", "ecallmgr"),
    }
    return _finish(f"call.CHANNEL_DESTROY.{encode_routing_key_segment(call_id)}", body, drop, extra)


def offnet_termination_ccv(account_id: str, reseller_id: str, resource_id: str = "carrier-1", **more: Any) -> dict:
    """The leg stepswitch bridged to a carrier's gateway: Resource-ID and Global-Resource from
    stepswitch_resources.erl:577-581, Resource-Type from its gateway endpoint (lines 722-728)."""
    return {
        "Account-ID": account_id,
        "Reseller-ID": reseller_id,
        "Resource-ID": resource_id,
        "Global-Resource": "false",
        "Resource-Type": "offnet-termination",
        "Authorizing-Type": "device",
        **more,
    }


def offnet_origination_ccv(account_id: str, resource_id: str = "carrier-1") -> dict:
    """A carrier's call in: stepswitch_inbound.erl:42-54,66-70,95-98,119-132."""
    return {
        "Account-ID": account_id,
        "Resource-Type": "offnet-origination",
        "Resource-ID": resource_id,
        "Global-Resource": "false",
        "Authorizing-Type": "resource",
        "Ignore-Display-Updates": "true",
    }


def onnet_termination_ccv(account_id: str, reseller_id: str, target_account_id: str) -> dict:
    """stepswitch's loopback to another account of the cluster: stepswitch_outbound.erl:184-203."""
    return {
        "Account-ID": account_id,
        "Reseller-ID": reseller_id,
        "Realm": "from.example.kazoo",
        "Resource-ID": target_account_id,
        "Resource-Type": "onnet-termination",
        "Loopback-Account-ID": target_account_id,
        "Loopback-Resource-Type": "onnet-origination",
    }


def jonny5_per_minute_ccv(rate_units: int, *, reseller: bool = False) -> dict:
    """What an authorised per-minute leg carries: Account-Billing (and Reseller-Billing) set by
    ecallmgr_fs_authz.erl:207-244 from jonny5's answer, and the rate hotornot put on the channel
    (ecallmgr_fs_authz.erl:16-26)."""
    ccv = {
        "Account-Billing": "per_minute",
        "Rate": str(rate_units),
        "Rate-Increment": "60",
        "Rate-Minimum": "60",
        "Surcharge": "0",
        "Rate-Name": "ru-moscow",
    }
    if reseller:
        ccv["Reseller-Billing"] = "per_minute"
    return ccv


def jonny5_ledger(
    account_id: str, call_id: str, amount: int, seconds: int, written_gregorian: int, month_prefix: str
) -> dict:
    """The debit j5_per_minute:create_ledger_usage/4 writes (j5_per_minute.erl:119-158) through
    kz_ledger (kz_ledger.erl:569-614: pvt fields, an id of the month it is written in)."""
    return {
        "_id": f"{month_prefix}-{uuid.uuid4().hex}",
        "pvt_type": "ledger",
        "pvt_ledger_type": "debit",
        "amount": amount,
        "description": "ru-moscow",
        "source": {"service": "per-minute-voip", "id": call_id},
        "usage": {"type": "voice", "quantity": seconds, "unit": "sec"},
        "period": {"start": written_gregorian - seconds},
        "account": {"id": account_id},
        "metadata": {
            "to": "+74951234567@example.kazoo",
            "direction": "outbound",
            "rate": {"name": "ru-moscow", "value": 12_000, "increment": 60, "minimum": 60},
        },
        "pvt_account_id": account_id,
        "pvt_created": written_gregorian,
        "pvt_modified": written_gregorian,
    }


def standing_req(
    account_id: str,
    server_id: str,
    *,
    bookkeeper_type: str = "kazbill",
    msg_id: str | None = None,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> tuple[str, bytes]:
    """kz_services_standing:check_bookkeeper/4 (kz_services_standing.erl:212-232), published by
    kapi_bookkeepers:publish_standing_req/2 on bookkeepers.standing.request
    (kapi_bookkeepers.erl:48,271-293,656-666) through kz_amqp_worker:call (which adds Server-ID)."""
    body = {
        "Account-ID": account_id,
        "Bookkeeper-ID": "bk-kazbill",
        "Bookkeeper-Type": bookkeeper_type,
        "Vendor-ID": account_id,
        "Items": [{"category": "devices", "item": "sip_device", "quantity": 3}],
        "Estimated-Withdrawal": 50_000,
        "Call-ID": uuid.uuid4().hex,
        **_default_headers("bookkeepers", "standing_req", "kazoo_services", server_id),
    }
    if msg_id is not None:
        body["Msg-ID"] = msg_id
    return _finish("bookkeepers.standing.request", body, drop, extra)
