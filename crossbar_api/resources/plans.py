"""Service plans: a reseller's catalogue (.../onbill_service_plans) and the plans assigned to an
account (.../service_plans).

A plan is a Kazoo `service_plan` document in the reseller's own account database:
`{"_id", "pvt_type": "service_plan", "name", "description", "plan": {category: {item: {...}}}}`.
Its amounts are Kazoo plan numbers in currency units, stored as JSON numbers and shown as they
were stored. An account's plans are named in its document of the `services` database
(`plans: {plan_id: {"account_id": reseller_id}}`) and read from its reseller's database, the
way the bookkeeper prices them (bookkeeper.services.billing.context). Every plan is checked with the
bookkeeper's own parser before it is saved or assigned, so the API never stores a plan that
billing would refuse. Answers never show `_rev` or `pvt_` fields."""

from __future__ import annotations

import uuid
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.settings import ONBILL_DOC_ID
from bookkeeper.ports import Conflict
from bookkeeper.services.billing.context import get_or_none
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.resources.plan_assignment import AssignedPlan, AssignedPlans, AvailablePlans
from crossbar_api.resources.plan_docs import (
    ACCOUNT,
    NEW_PLAN_ID,
    PLAN_TYPE,
    RESERVED_IDS,
    _assignments,
    _catalogue,
    _checked_plan_id,
    _now_gregorian,
    _plan_body,
    _plan_doc,
    _plan_not_found,
    _public,
    _require_reseller,
    _save,
)


class ResellerPlans:
    """GET/PUT .../onbill_service_plans: the service plans a reseller offers."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        answer(req, resp, _catalogue(self.deps.store, account_id))

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        account = account_for(req, self.deps, account_id, write=True)
        _require_reseller(account)
        plan_id = data.get("id")
        if plan_id is None:
            plan_id = uuid.uuid4().hex
        elif not isinstance(plan_id, str) or not NEW_PLAN_ID.match(plan_id):
            raise invalid("id", "format", "must be 1 to 64 characters of a-z, 0-9, _ and -")
        elif plan_id in RESERVED_IDS:
            raise invalid("id", "reserved", f"{plan_id!r} is a path of the API; choose another id")
        body = _plan_body(data, plan_id)
        db = account_db(account_id)
        if get_or_none(self.deps.store, db, plan_id) is not None:  # a deleted plan, or another document, too
            raise ApiError(
                409,
                "the id is taken",
                {"id": {"unique": {"message": f"{plan_id!r} already names a document of this account"}}},
            )
        now = _now_gregorian(self.deps)
        doc = {
            "_id": plan_id,
            "pvt_type": PLAN_TYPE,
            **body,
            "pvt_account_id": account_id,
            "pvt_account_db": db,
            "pvt_created": now,
            "pvt_modified": now,
            "pvt_vsn": "1",
        }
        _save(self.deps.store, db, doc, "the id was taken meanwhile")
        saved = _plan_doc(self.deps.store, account_id, plan_id) or doc
        answer(req, resp, _public(saved), status=201, revision=saved.get("_rev"))


class ResellerPlan:
    """GET/POST/DELETE .../onbill_service_plans/{plan_id}: one plan of the catalogue."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _stored(self, account_id: str, plan_id: str) -> dict[str, Any]:
        _checked_plan_id(plan_id, "this account's catalogue")
        doc = _plan_doc(self.deps.store, account_id, plan_id)
        if doc is None:
            raise _plan_not_found(plan_id, "this account's catalogue")
        return doc

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account_for(req, self.deps, account_id)
        doc = self._stored(account_id, plan_id)
        answer(req, resp, _public(doc), revision=doc.get("_rev"))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        data = read_data(req)
        account = account_for(req, self.deps, account_id, write=True)
        _require_reseller(account)
        stored = self._stored(account_id, plan_id)
        if "id" in data and data["id"] != plan_id:
            raise invalid("id", "immutable", "a plan's id cannot change; create a new plan instead")
        body = _plan_body(data, plan_id)
        updated = {**stored, **body, "pvt_modified": _now_gregorian(self.deps)}  # _rev and pvt_ fields kept
        _save(self.deps.store, account_db(account_id), updated, "the plan changed meanwhile; read it again")
        saved = _plan_doc(self.deps.store, account_id, plan_id) or updated
        answer(req, resp, _public(saved), revision=saved.get("_rev"))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = account_for(req, self.deps, account_id, write=True)
        _require_reseller(account)
        stored = self._stored(account_id, plan_id)
        onbill = get_or_none(self.deps.store, account_db(account_id), ONBILL_DOC_ID) or {}
        if onbill.get("default_service_plan") == plan_id:
            raise ApiError(
                409,
                "the plan is in use",
                {
                    "plan_id": {
                        "default": {
                            "message": (
                                "it is the default_service_plan of this reseller's onbill settings; change that first"
                            )
                        }
                    }
                },
            )
        holders = _assignments(self.deps.store, account_id, plan_id)
        if holders:
            shown = ", ".join(holders[:5]) + (f" and {len(holders) - 5} more" if len(holders) > 5 else "")
            raise ApiError(
                409,
                "the plan is in use",
                {
                    "plan_id": {
                        "assigned": {"message": f"assigned to {len(holders)} account(s): {shown}; unassign it first"}
                    }
                },
            )
        try:
            self.deps.store.soft_delete(account_db(account_id), plan_id)
        except Conflict:
            raise ApiError(409, "the plan changed meanwhile; try again") from None
        answer(req, resp, {**_public(stored), "deleted": True})


# ----------------------------------------------------------------------------- an account's plans


_PLAN_BODY = {"id": "string", "name": "string", "description": "string", "plan": "object"}

# (path, factory, summary, body schema) — the fields of crossbar_api.routes.Route, in order.
PLAN_ROUTES = (
    (
        f"{ACCOUNT}/onbill_service_plans",
        ResellerPlans,
        "A reseller's catalogue of service plans; PUT adds one (checked as billing reads it)",
        _PLAN_BODY,
    ),
    (
        f"{ACCOUNT}/onbill_service_plans/{{plan_id}}",
        ResellerPlan,
        "One plan of the catalogue: read, replace, or delete it once no account has it",
        _PLAN_BODY,
    ),
    (
        f"{ACCOUNT}/service_plans",
        AssignedPlans,
        "The plans the account is priced with (the reseller's default when none is assigned); POST "
        "{add, delete}: assign and unassign several at once (from above)",
        {"add": "array", "plans": "array", "delete": "array"},
    ),
    (
        f"{ACCOUNT}/service_plans/available",
        AvailablePlans,
        "The plans of the account's reseller, which may be assigned to it",
        None,
    ),
    (
        f"{ACCOUNT}/service_plans/{{plan_id}}",
        AssignedPlan,
        "Read a plan (the account's own, else its reseller's); assign it to the account (from above), or unassign it",
        None,
    ),
)
