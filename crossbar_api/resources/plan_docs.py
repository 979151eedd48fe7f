"""Shared by the plan endpoints (plans.py, plan_assignment.py): reading, checking and saving
service plan documents, and finding an account's reseller and its default plan."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import SERVICES_DB, account_db
from bookkeeper.domain.plans import PlanError, parse_service_plan
from bookkeeper.domain.settings import ONBILL_DOC_ID, SettingsError, master_of, reseller_settings
from bookkeeper.ports import (
    Conflict,
    DatabaseNotFound,
    DocumentStore,
    InvalidDocument,
    NotFound,
    ViewQuery,
    gregorian_now,
)
from bookkeeper.services.billing.announcements import announce_write
from bookkeeper.services.billing.context import find_reseller, get_or_none
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import document_numbers

ACCOUNT = "/v2/accounts/{account_id}"
PLAN_TYPE = "service_plan"
# Ids the API mints or accepts for a new plan; `available` is a path of its own.
NEW_PLAN_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
RESERVED_IDS = frozenset({"available"})
# Ids of existing plans (Kazoo's own may be spelled otherwise): nothing a URL or CouchDB
# would read as something else (no leading underscore, no slash, no control characters).
ANY_PLAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+~-]{0,254}$")
PLAN_FIELDS = ("id", "name", "description", "plan")
MAX_NAME = 128
MAX_DESCRIPTION = 1000
WRITE_ATTEMPTS = 3


# ----------------------------------------------------------------------------- helpers


def _now_gregorian(deps: ApiDeps) -> int:
    return gregorian_now(deps.clock)


def _is_reseller(account: Mapping[str, Any]) -> bool:
    return bool(account.get("pvt_reseller")) or not account.get("pvt_tree")


def _require_reseller(account: Mapping[str, Any]) -> None:
    if not _is_reseller(account):
        raise ApiError(
            403,
            "forbidden",
            {
                "account_id": {
                    "reseller": {
                        "message": "only a reseller (or the master account) keeps a catalogue of service plans"
                    }
                }
            },
        )


def _plan_not_found(plan_id: str, where: str) -> ApiError:
    return ApiError(
        404, "bad identifier", {"plan_id": {"exists": {"message": f"service plan {plan_id!r} not found in {where}"}}}
    )


def _checked_plan_id(plan_id: str, where: str) -> str:
    if not ANY_PLAN_ID.match(plan_id or ""):
        raise _plan_not_found(plan_id, where)
    return plan_id


def _plan_doc(store: DocumentStore, owner_id: str, plan_id: str) -> dict[str, Any] | None:
    """A live plan of the account's catalogue; None when missing, soft-deleted or not a plan."""
    doc = get_or_none(store, account_db(owner_id), plan_id)
    if doc is None or doc.get("pvt_deleted") or doc.get("pvt_type") != PLAN_TYPE:
        return None
    return doc


def _catalogue(store: DocumentStore, owner_id: str) -> list[dict[str, Any]]:
    try:
        rows = store.query_view(account_db(owner_id), "kazbill_plans", "catalogue", ViewQuery(include_docs=True)).rows
    except (DatabaseNotFound, NotFound):
        return []
    return [_public(row.doc) for row in rows if row.doc]


def _public(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "name": doc.get("name", ""),
        "description": doc.get("description", ""),
        "plan": doc.get("plan") or {},
    }


def _reseller_id(store: DocumentStore, account: Mapping[str, Any]) -> str:
    """The account's reseller without loading its plans: this is where a broken assignment is
    looked at and undone."""
    try:
        return find_reseller(store, account)[1]
    except SettingsError as error:
        raise ApiError(
            409,
            "the account's billing documents cannot be used",
            {f"{error.document}.{error.field}".rstrip("."): {"billing": {"message": error.reason}}},
        ) from None


def _default_plan_id(store: DocumentStore, account: Mapping[str, Any], reseller_id: str) -> str | None:
    master_id = master_of(account)
    try:
        return reseller_settings(
            reseller_id,
            get_or_none(store, account_db(reseller_id), ONBILL_DOC_ID),
            get_or_none(store, account_db(master_id), ONBILL_DOC_ID),
            master_id=master_id,
        ).default_service_plan
    except SettingsError as error:
        raise ApiError(
            409,
            "the account's billing documents cannot be used",
            {f"{error.document}.{error.field}".rstrip("."): {"billing": {"message": error.reason}}},
        ) from None


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise invalid(key, "type", f"must be {'non-empty ' if required else ''}text of at most {limit} characters")
    if "\x00" in value:
        raise invalid(key, "type", "must not contain NUL characters")
    return value.strip() if required else value


def _plan_body(data: Mapping[str, Any], plan_id: str) -> dict[str, Any]:
    """name, description and plan from the request, the plan checked as billing will read it."""
    for key in data:
        if key not in PLAN_FIELDS:
            raise invalid(key, "unknown", f"unknown field; expected {', '.join(PLAN_FIELDS)}")
    body = {
        "name": _text(data, "name", MAX_NAME, required=True),
        "description": _text(data, "description", MAX_DESCRIPTION, required=False),
    }
    if "plan" not in data:
        raise invalid(
            "plan",
            "required",
            'a plan of categories and items is needed, e.g. {"devices": {"sip_device": {"rate": 5}}}',
        )
    plan = document_numbers(data["plan"], "plan")
    try:
        parse_service_plan({"_id": plan_id, "name": body["name"], "plan": plan})
    except PlanError as error:
        raise invalid(error.field, "invalid", error.reason) from None
    body["plan"] = plan
    return body


def _save(store: DocumentStore, db: str, doc: Mapping[str, Any], conflict: str) -> None:
    try:
        written = store.put(db, doc)
        announce_write(store, db, {**doc, "_rev": written.rev}, doc.get("pvt_modified") or 0)  # a Kazoo plan
    except Conflict:
        raise ApiError(409, conflict, {"plan_id": {"conflict": {"message": conflict}}}) from None
    except InvalidDocument as error:
        raise invalid(error.field, "invalid", error.reason) from None
    except DatabaseNotFound:
        raise ApiError(
            409,
            "the account has no database",
            {"account_id": {"database": {"message": "the account's database does not exist"}}},
        ) from None


def _assignments(store: DocumentStore, owner_id: str, plan_id: str) -> list[str]:
    """Accounts whose services document assigns this plan of this catalogue (an entry naming no
    catalogue counts too, to be safe; one naming another catalogue doesn't)."""
    holders: list[str] = []
    for named in (owner_id, None):
        try:
            rows = store.query_view(
                SERVICES_DB, "kazbill_services", "by_plan", ViewQuery(key=[plan_id, named], key_is_set=True)
            ).rows
        except (DatabaseNotFound, NotFound):
            return holders
        holders += [row.id for row in rows if row.id is not None]
    return holders


# ----------------------------------------------------------------------------- the catalogue
