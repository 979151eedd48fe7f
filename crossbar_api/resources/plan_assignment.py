"""The plans an account is priced with (.../service_plans): listed, assigned from above (one by
one, or Kazoo 4.x's `POST .../service_plans {"add": [...], "delete": [...]}`), unassigned, read
one by one, and what its reseller offers (.../service_plans/available). See plans.py for the
documents' shape and the shared helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import SERVICES_DB
from bookkeeper.domain.plans import PlanError, parse_service_plan
from bookkeeper.ports import Conflict, DatabaseNotFound, NotFound
from bookkeeper.services.billing.announcements import announce_write
from bookkeeper.services.billing.context import get_or_none
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.resources.plan_docs import (
    ANY_PLAN_ID,
    WRITE_ATTEMPTS,
    _catalogue,
    _checked_plan_id,
    _default_plan_id,
    _now_gregorian,
    _plan_doc,
    _plan_not_found,
    _reseller_id,
)

MAX_BULK = 100


def _assigned(deps: ApiDeps, account: Mapping[str, Any], reseller_id: str) -> list[dict[str, Any]]:
    services = get_or_none(deps.store, SERVICES_DB, account["_id"]) or {}
    assigned = services.get("plans")
    plans = assigned if isinstance(assigned, Mapping) else {}
    listed = [(plan_id, False) for plan_id in sorted(plans)]
    if not listed:
        default = _default_plan_id(deps.store, account, reseller_id)
        listed = [(default, True)] if default else []
    result = []
    for plan_id, is_default in listed:
        doc = _plan_doc(deps.store, reseller_id, plan_id)
        entry = {
            "id": plan_id,
            "name": None if doc is None else doc.get("name", ""),
            "account_id": reseller_id,
            "default": is_default,
        }
        if doc is None:
            entry["missing"] = True  # billing refuses the account until this is fixed
        result.append(entry)
    return result


def _change_assignment(deps: ApiDeps, account_id: str, plan_id: str, reseller_id: str | None) -> None:
    _change_assignments(deps, account_id, {plan_id: reseller_id})


def _change_assignments(deps: ApiDeps, account_id: str, changes: Mapping[str, str | None]) -> None:
    """Set (a reseller id given) or remove (None) plans[plan_id] in the account's services
    document, all in one write, keeping every other field; nothing is written when nothing
    changes."""
    for _ in range(WRITE_ATTEMPTS):
        try:
            current = deps.store.get(SERVICES_DB, account_id)
        except NotFound:
            current = None
        except DatabaseNotFound:
            raise ApiError(503, "the services database does not exist") from None
        plans = (current or {}).get("plans") or {}
        if not isinstance(plans, Mapping):
            raise ApiError(
                409,
                "the account's billing documents cannot be used",
                {"services.plans": {"billing": {"message": "must be an object of plan ids"}}},
            )
        before = plans
        plans = dict(plans)
        for plan_id, reseller_id in changes.items():
            if reseller_id is None:
                plans.pop(plan_id, None)
            else:
                entry = plans.get(plan_id)
                entry = dict(entry) if isinstance(entry, Mapping) else {}
                plans[plan_id] = {**entry, "account_id": reseller_id}
        if plans == before:
            return
        now = _now_gregorian(deps)
        if current is None:
            current = {"_id": account_id, "pvt_type": "service", "pvt_created": now}
        try:
            saved = {**current, "plans": plans, "pvt_modified": now}
            announce_write(deps.store, SERVICES_DB, {**saved, "_rev": deps.store.put(SERVICES_DB, saved).rev}, now)
            return
        except Conflict:
            continue  # Kazoo saved the document a moment before: read it again
    raise ApiError(409, "the account's services document keeps changing; try again")


def _assignable(deps: ApiDeps, reseller_id: str, plan_id: str, field: str) -> None:
    """A plan of the account's reseller's catalogue that billing can price; 404 or 409 naming
    `field` otherwise."""
    where = f"the catalogue of the account's reseller {reseller_id}"
    doc = _plan_doc(deps.store, reseller_id, _checked_plan_id(plan_id, where)) if isinstance(plan_id, str) else None
    if doc is None:
        raise ApiError(
            404, "bad identifier", {field: {"exists": {"message": f"service plan {plan_id!r} not found in {where}"}}}
        )
    try:
        parse_service_plan(doc)
    except PlanError as error:
        raise ApiError(
            409,
            "the plan cannot be priced",
            {field: {"invalid": {"message": f"service plan {plan_id!r}: {error.field}: {error.reason}"}}},
        ) from None


def _plan_ids(data: Mapping[str, Any], name: str) -> list[str]:
    """`add` or `delete`: plan ids; an `add` item may also be Kazoo 4.3's {"id": ...}."""
    items = data.get(name, [])
    if not isinstance(items, list) or len(items) > MAX_BULK:
        raise invalid(name, "type", f"must be a list of at most {MAX_BULK} plan ids")
    ids = []
    for index, item in enumerate(items):
        if name != "delete" and isinstance(item, dict):
            extra = sorted(set(item) - {"id"})
            if extra:
                raise invalid(
                    f"{name}.{index}.{extra[0]}", "unsupported", "an assignment names its plan by id, nothing else"
                )
            item = item.get("id")
        if not isinstance(item, str) or not ANY_PLAN_ID.match(item):
            raise invalid(f"{name}.{index}", "type", "must be a plan id")
        ids.append(item)
    return ids


class AssignedPlans:
    """GET .../service_plans: the plans the account is priced with. POST {"add": [...],
    "delete": [...]}: Kazoo 4.x's way to change them at once (cb_service_plans:post/1 in 4.2,
    cb_services:post/1 in 4.3, which also reads `plans` for `add`: applications/crossbar/src/
    modules/cb_services.erl:421-430 and 621-647); from above only, every plan checked first,
    then one write. A plan not assigned is deleted quietly, as Kazoo unassigns it."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        answer(req, resp, _assigned(self.deps, account, _reseller_id(self.deps.store, account)))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        for key in data:
            if key not in ("add", "plans", "delete"):
                raise invalid(key, "unknown", "expected add (or plans) and delete")
        if "add" in data and "plans" in data:
            raise invalid("plans", "conflict", "give add or plans, not both")
        additions = _plan_ids(data, "plans" if "plans" in data else "add")
        deletions = _plan_ids(data, "delete")
        both = sorted(set(additions) & set(deletions))
        if both:
            raise invalid("delete", "conflict", f"{both[0]!r} cannot be added and deleted at once")
        account = account_for(req, self.deps, account_id, write=True, from_above=True)
        reseller_id = _reseller_id(self.deps.store, account)
        for index, plan_id in enumerate(additions):
            _assignable(self.deps, reseller_id, plan_id, f"{'plans' if 'plans' in data else 'add'}.{index}")
        changes: dict[str, str | None] = {plan_id: None for plan_id in deletions}
        changes.update({plan_id: reseller_id for plan_id in additions})
        _change_assignments(self.deps, account_id, changes)
        answer(req, resp, _assigned(self.deps, account, reseller_id))


class AssignedPlan:
    """GET .../service_plans/{plan_id}: a plan document as Kazoo shows it, its public fields and
    `id` (kz_doc:public_fields): the account's own plan (a reseller reading its catalogue, as
    cb_service_plans:validate_service_plan loads it in 4.2), else the plan of its reseller's
    catalogue it may be priced with. POST/DELETE: a reseller above the account assigns a plan
    of the account's reseller's catalogue, or takes it away. Both are idempotent."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        _checked_plan_id(plan_id, "this account's plans")
        doc = _plan_doc(self.deps.store, account_id, plan_id)
        if doc is None:
            doc = _plan_doc(self.deps.store, _reseller_id(self.deps.store, account), plan_id)
        if doc is None:
            raise _plan_not_found(plan_id, "this account's plans or its reseller's catalogue")
        shown = {key: value for key, value in doc.items() if not key.startswith(("_", "pvt_"))}
        answer(req, resp, {**shown, "id": doc["_id"]}, revision=doc.get("_rev"))

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
            raise ApiError(
                409,
                "the plan cannot be priced",
                {error.field: {"invalid": {"message": f"service plan {plan_id!r}: {error.reason}"}}},
            ) from None
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
