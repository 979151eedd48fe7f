"""The plans an account is priced with (.../service_plans): listed, assigned from above,
unassigned, and what its reseller offers (.../service_plans/available). See plans.py for the
documents' shape and the shared helpers."""
from __future__ import annotations

from typing import Any, Mapping

import falcon

from bookkeeper.domain.kazoo_names import SERVICES_DB
from bookkeeper.domain.plans import PlanError, parse_service_plan
from bookkeeper.ports import Conflict, DatabaseNotFound, NotFound
from bookkeeper.services.announcements import announce_write
from bookkeeper.services.context import get_or_none
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError
from crossbar_api.resources.plan_docs import (
    WRITE_ATTEMPTS, _catalogue, _checked_plan_id, _default_plan_id, _now_gregorian, _plan_doc,
    _plan_not_found, _reseller_id,
)


def _assigned(deps: ApiDeps, account: Mapping[str, Any], reseller_id: str) -> list[dict[str, Any]]:
    services = get_or_none(deps.store, SERVICES_DB, account["_id"]) or {}
    plans = services.get("plans") if isinstance(services.get("plans"), Mapping) else {}
    listed = [(plan_id, False) for plan_id in sorted(plans)]
    if not listed:
        default = _default_plan_id(deps.store, account, reseller_id)
        listed = [(default, True)] if default else []
    result = []
    for plan_id, is_default in listed:
        doc = _plan_doc(deps.store, reseller_id, plan_id)
        entry = {"id": plan_id, "name": None if doc is None else doc.get("name", ""), "account_id": reseller_id,
                 "default": is_default}
        if doc is None:
            entry["missing"] = True  # billing refuses the account until this is fixed
        result.append(entry)
    return result


def _change_assignment(deps: ApiDeps, account_id: str, plan_id: str, reseller_id: str | None) -> None:
    """Set (reseller_id given) or remove plans[plan_id] in the account's services document,
    keeping every other field; nothing is written when nothing changes."""
    for _ in range(WRITE_ATTEMPTS):
        try:
            current = deps.store.get(SERVICES_DB, account_id)
        except NotFound:
            current = None
        except DatabaseNotFound:
            raise ApiError(503, "the services database does not exist") from None
        plans = (current or {}).get("plans") or {}
        if not isinstance(plans, Mapping):
            raise ApiError(409, "the account's billing documents cannot be used", {"services.plans": {
                "billing": {"message": "must be an object of plan ids"}}})
        plans = dict(plans)
        if reseller_id is None:
            if plan_id not in plans:
                return
            del plans[plan_id]
        else:
            entry = plans.get(plan_id)
            entry = dict(entry) if isinstance(entry, Mapping) else {}
            if entry.get("account_id") == reseller_id and plan_id in plans:
                return
            plans[plan_id] = {**entry, "account_id": reseller_id}
        now = _now_gregorian(deps)
        if current is None:
            if reseller_id is None:
                return
            current = {"_id": account_id, "pvt_type": "service", "pvt_created": now}
        try:
            saved = {**current, "plans": plans, "pvt_modified": now}
            announce_write(deps.store, SERVICES_DB, {**saved, "_rev": deps.store.put(SERVICES_DB, saved).rev}, now)
            return
        except Conflict:
            continue  # Kazoo saved the document a moment before: read it again
    raise ApiError(409, "the account's services document keeps changing; try again")


class AssignedPlans:
    """GET .../service_plans: the plans the account is priced with."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        answer(req, resp, _assigned(self.deps, account, _reseller_id(self.deps.store, account)))


class AssignedPlan:
    """POST/DELETE .../service_plans/{plan_id}: a reseller above the account assigns a plan of
    the account's reseller's catalogue, or takes it away. Both are idempotent."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = account_for(req, self.deps, account_id, write=True, from_above=True)
        reseller_id = _reseller_id(self.deps.store, account)
        where = f"the catalogue of the account's reseller {reseller_id}"
        doc = _plan_doc(self.deps.store, reseller_id, _checked_plan_id(plan_id, where))
        if doc is None:
            raise _plan_not_found(plan_id, where)
        try:
            parse_service_plan(doc)
        except PlanError as error:
            raise ApiError(409, "the plan cannot be priced", {error.field: {
                "invalid": {"message": f"service plan {plan_id!r}: {error.reason}"}}}) from None
        _change_assignment(self.deps, account_id, plan_id, reseller_id)
        answer(req, resp, _assigned(self.deps, account, reseller_id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = account_for(req, self.deps, account_id, write=True, from_above=True)
        reseller_id = _reseller_id(self.deps.store, account)
        _checked_plan_id(plan_id, "the account's plans")
        _change_assignment(self.deps, account_id, plan_id, None)
        answer(req, resp, _assigned(self.deps, account, reseller_id))


class AvailablePlans:
    """GET .../service_plans/available: what may be assigned to the account (its reseller's catalogue)."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        answer(req, resp, _catalogue(self.deps.store, _reseller_id(self.deps.store, account)))
