"""The customer page's actions besides money: end or extend a trial, its private limits (credit
line), the plan it is priced with, and a manual block. Each is one call of the API's own
resource as the signed-in user (api_calls.py), then back to the page saying what was done, or
the API's words naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import falcon

from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX, authenticate
from crossbar_api.console.api_calls import ApiAnswer, call_api, form_number
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of

ACTIONS = ("trial", "limits", "plan", "block")


def _trial(app: falcon.App, req: falcon.Request, path: str, form: dict[str, str]) -> ApiAnswer:
    data: dict[str, Any] = {"action": form.get("trial", "")}
    if data["action"] == "extend":
        days = form.get("days", "").strip()
        data["days"] = int(days) if days.isdigit() and len(days) < 6 else days
    return call_api(app, req, "POST", f"{path}/onbill_trial", data)


def _limits(app: falcon.App, req: falcon.Request, path: str, form: dict[str, str]) -> ApiAnswer:
    data = {
        "allow_postpay": form.get("allow_postpay") == "true",
        "max_postpay_amount": form_number(form.get("max_postpay_amount", "0") or "0"),
    }
    return call_api(app, req, "PATCH", f"{path}/onbill_pvt_limits", data)


def _plan(app: falcon.App, req: falcon.Request, path: str, form: dict[str, str]) -> ApiAnswer:
    assigned = call_api(app, req, "GET", f"{path}/service_plans")
    if not assigned.ok:
        return assigned
    chosen = form.get("plan_id", "")
    others = [plan["id"] for plan in assigned.data or [] if not plan.get("default") and plan["id"] != chosen]
    return call_api(app, req, "POST", f"{path}/service_plans", {"add": [chosen], "delete": others})


def _block(app: falcon.App, req: falcon.Request, path: str, form: dict[str, str]) -> ApiAnswer:
    return call_api(app, req, "PATCH", f"{path}/onbill", {"manual_block": form.get("block") == "true"})


CALLS: dict[str, Callable[[falcon.App, falcon.Request, str, dict[str, str]], ApiAnswer]] = {
    "trial": _trial,
    "limits": _limits,
    "plan": _plan,
    "block": _block,
}


class CustomerAction:
    """POST /console/accounts/{id}/actions/{name}."""

    def __init__(self, deps: ApiDeps, app: falcon.App):
        self.deps, self.app = deps, app

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, name: str) -> None:
        form = read_form(req)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        if name not in CALLS:
            raise falcon.HTTPNotFound()
        authenticate(req, self.deps)
        lang = language_of(req.get_param("lang"), None)
        answered = CALLS[name](self.app, req, f"/v2/accounts/{account_id}", form)
        page = f"{CONSOLE_PREFIX}/accounts/{account_id}?lang={lang}"
        outcome = {"done": name} if answered.ok else {"error": answered.message}
        raise falcon.HTTPSeeOther(f"{page}&{urlencode(outcome)}")


def audit_of(app: falcon.App, req: falcon.Request, account_id: str, first: str, last: str) -> ApiAnswer:
    """The audit of the account over the days shown (GET .../audit, as the API answers it)."""
    return call_api(app, req, "GET", f"/v2/accounts/{account_id}/audit?from={first}&to={last}")


def account_settings(app: falcon.App, req: falcon.Request, account_id: str) -> dict[str, Any]:
    """What the actions' forms show: limits, assigned and available plans (as the API shows
    them to this user; a section the user may not read is left out)."""
    path = f"/v2/accounts/{account_id}"
    shown: dict[str, Any] = {}
    for key, sub in (
        ("limits", "onbill_pvt_limits"),
        ("plans", "service_plans"),
        ("available", "service_plans/available"),
    ):
        answered = call_api(app, req, "GET", f"{path}/{sub}")
        shown[key] = answered.data if answered.ok else None
    return shown
