"""The console's plans editor: a reseller's catalogue of service plans, each edited as its name
and its price list (the plan document's `plan` object, as JSON), saved through the API's own
`POST .../onbill_service_plans/{id}` (a new one through `PUT`) as the signed-in user. What the
API refuses is shown next to that plan's form, every field it named, with the text as typed.

    GET  /console/accounts/{id}/plans
    POST /console/accounts/{id}/plans            form_token, plan_id ("" for a new one), id, name, plan
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import falcon

from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX
from crossbar_api.console.api_calls import ApiAnswer, call_api
from crossbar_api.console.texts import TEXTS
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of


class PlansPage:
    def __init__(self, deps: ApiDeps, app: falcon.App, render: Any, reading: Any):
        self.deps, self.app, self.render, self.reading = deps, app, render, reading

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        self._show(req, resp, account, done=req.get_param("done"))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        form = read_form(req)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        plan_id = form.get("plan_id", "")
        text = form.get("plan", "")
        try:
            body: dict[str, Any] = {"name": form.get("name", ""), "plan": json.loads(text or "{}")}
        except json.JSONDecodeError as error:
            refused = ApiAnswer(400, None, "", (("plan", f"not JSON: {error.msg} at line {error.lineno}"),))
            return self._show(req, resp, account, editing=(plan_id, form, refused), status=400)
        base = f"/v2/accounts/{account_id}/onbill_service_plans"
        if plan_id:
            saved = call_api(self.app, req, "POST", f"{base}/{quote(plan_id, safe='')}", body)
        else:
            body["id"] = form.get("id", "").strip() or None
            saved = call_api(self.app, req, "PUT", base, {k: v for k, v in body.items() if v is not None})
        if not saved.ok:
            return self._show(req, resp, account, editing=(plan_id, form, saved), status=400)
        lang = language_of(req.get_param("lang"), None)
        page = f"{CONSOLE_PREFIX}/accounts/{account_id}/plans?" + urlencode({"lang": lang, "done": saved.data["id"]})
        raise falcon.HTTPSeeOther(page)

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account: dict[str, Any],
        *,
        editing: tuple[str, dict[str, str], ApiAnswer] | None = None,
        done: str | None = None,
        status: int = 200,
    ) -> None:
        lang = language_of(req.get_param("lang"), None)
        listed = call_api(self.app, req, "GET", f"/v2/accounts/{account['_id']}/onbill_service_plans")
        plans = [
            {"id": plan["id"], "name": plan.get("name", ""), "text": json.dumps(plan.get("plan") or {}, indent=2)}
            for plan in (listed.data or [])
        ]
        failed_id, typed, problems = (editing[0], editing[1], editing[2].problems) if editing else (None, {}, ())
        for plan in plans:
            if plan["id"] == failed_id:  # what was typed stays, with what was wrong
                plan.update(name=typed.get("name", ""), text=typed.get("plan", ""), problems=problems)
        new: dict[str, Any] = {"id": "", "name": "", "text": "{}", "problems": ()}
        if editing and not failed_id:
            new = {"id": typed.get("id", ""), "name": typed.get("name", ""), "text": typed.get("plan", "")}
            new["problems"] = problems
        self.render(
            resp,
            "plans.html",
            status,
            lang=lang,
            t=TEXTS[lang],
            account=account,
            plans=plans,
            new=new,
            listed=listed,
            done=done,
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )
