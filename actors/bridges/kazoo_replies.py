"""Kazoo-shaped messages Kazbill sends: the bookkeeper's update_resp and standing_resp, and the
doc_edited notice that refreshes Kazoo's caches after Kazbill wrote one of Kazoo's documents."""

from __future__ import annotations

import json
import uuid
from typing import Any

from actors.bridges.bookkeeper_messages import RESPONSE_STATUSES, StandingRequested
from actors.bridges.kazoo_messages import APP_NAME, encode_routing_key_segment
from actors.messages import BookkeeperSyncRequested
from bookkeeper.domain.kazoo_names import raw_account_id

# kz_services_standing.erl:173-175 accepts the change only on Status "good_standing"
# (kzd_services:status_good/0, kzd_services.erl:131-132); any other is a refusal with its
# Reason and Message shown to the user in Kazoo's 402 (kz_services_standing.erl:176-182).
STANDING_STATUSES = ("good_standing", "delinquent", "error")


def bookkeeper_update_response(
    request: BookkeeperSyncRequested,
    *,
    status: str,
    reason: str | None,
    message: str | None,
    details: dict | None,
    app_version: str,
    node: str,
    server_id: str = "",
) -> tuple[str, bytes]:
    """(routing key on the `targeted` exchange, body) answering an update request."""
    if status not in RESPONSE_STATUSES:
        raise ValueError(f"status must be one of {RESPONSE_STATUSES}, not {status!r}")
    return request.server_id, _bookkeeper_reply(
        "update_resp", request.msg_id, status, reason, message, details, app_version, node, server_id
    )


def bookkeeper_standing_response(
    request: StandingRequested,
    *,
    status: str,
    reason: str | None,
    message: str | None,
    details: dict | None,
    app_version: str,
    node: str,
) -> tuple[str, bytes]:
    """(routing key on the `targeted` exchange, body) answering a standing request
    (kapi_bookkeepers.erl:295-314: Status required; Reason, Message, Details optional)."""
    if status not in STANDING_STATUSES:
        raise ValueError(f"status must be one of {STANDING_STATUSES}, not {status!r}")
    return request.server_id, _bookkeeper_reply(
        "standing_resp", request.msg_id, status, reason, message, details, app_version, node, ""
    )


def _bookkeeper_reply(
    name: str,
    msg_id: str,
    status: str,
    reason: str | None,
    message: str | None,
    details: dict | None,
    app_version: str,
    node: str,
    server_id: str,
) -> bytes:
    payload: dict[str, Any] = {
        **_default_headers("bookkeepers", name, app_version, node, server_id),
        "Msg-ID": msg_id,  # kz_amqp_worker matches the reply to its call by Msg-ID
        "Status": status,
    }
    # The generated schema calls Details a string; Kazoo checks no types here and its own
    # publishers send Details as a JSON object.
    payload.update({k: v for k, v in (("Reason", reason), ("Message", message), ("Details", details)) if v})
    return _dump(payload)


def encode_doc_edited_notice(
    database: str, doc_type: str, doc_id: str, rev: str, account_id: str, *, node: str, app_version: str
) -> tuple[str, bytes]:
    """(routing key on `configuration`, body) telling Kazoo that Kazbill wrote one of its documents.

    Kazoo's caches (jonny5's limits, accounts, services) flush on the exact Database string they
    cached under, so it goes out as given; `node` must not be a Kazoo node, or Kazoo takes the
    notice for its own echo."""
    if not doc_id or any(not part or "." in part for part in (database, doc_type)):
        # Kazoo does not encode the database and type segments: a dot there would shift the key.
        raise ValueError(f"cannot route {database!r}/{doc_type!r}/{doc_id!r}")
    payload = {
        **_default_headers("configuration", "doc_edited", app_version, node, ""),
        "Msg-ID": uuid.uuid4().hex,
        "ID": doc_id,
        "Rev": rev,
        "Type": doc_type,
        "Database": database,
        "Account-ID": raw_account_id(account_id),
        "Is-Soft-Deleted": False,
    }
    routing_key = f"doc_edited.{database}.{doc_type}.{encode_routing_key_segment(doc_id)}"
    return routing_key, _dump(payload)


def _default_headers(category: str, name: str, app_version: str, node: str, server_id: str) -> dict[str, Any]:
    return {
        "Event-Category": category,
        "Event-Name": name,
        "App-Name": APP_NAME,
        "App-Version": app_version,
        "Node": node,
        "Server-ID": server_id,
    }


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("ascii")
