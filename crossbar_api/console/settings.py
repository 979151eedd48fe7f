"""The console's settings page for a reseller: its outbound webhooks (add, test, delete, the
delivery log), its carriers and legal details, its payment gateways and its own document
templates. Every section reads and writes through the API's own resources as the signed-in
user; what the API refuses is shown under the section that sent it, each field named, with the
text as typed.

    GET  /console/accounts/{id}/settings
    POST /console/accounts/{id}/settings/{section}     webhook_add, webhook_test, webhook_delete,
                                                       carriers, gateway, template
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import falcon

from bookkeeper.domain.gateways.settings import setting_fields
from bookkeeper.domain.webhooks import EVENT_TYPES
from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX
from crossbar_api.console.api_calls import ApiAnswer, call_api
from crossbar_api.console.texts import TEXTS
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of

GATEWAYS = ("paypal_config", "yandex_money_config", "braintree_config")
TEMPLATE_TYPES = ("invoice", "act", "calls_report", "proforma")


class SettingsPage:
    def __init__(self, deps: ApiDeps, app: falcon.App, render: Any, reading: Any):
        self.deps, self.app, self.render, self.reading = deps, app, render, reading

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        self._show(req, resp, account, done=req.get_param("done"))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, section: str) -> None:
        account = self.reading(req, self.deps, account_id)
        form = read_form(req)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        base = f"/v2/accounts/{account_id}"
        hooks = f"{base}/billing_webhooks"
        if section == "webhook_add":
            events = [event for event in EVENT_TYPES if form.get(f"event_{event}") == "on"]
            sent = call_api(self.app, req, "PUT", hooks, {"url": form.get("url", ""), "events": events})
        elif section == "webhook_test":
            sent = call_api(self.app, req, "PUT", f"{hooks}/{quote(form.get('hook_id', ''), safe='')}/test")
            if sent.ok and sent.data.get("state") != "delivered":
                history = sent.data.get("history") or [{}]
                last = history[-1]
                detail = last.get("error") or f"HTTP {last.get('status')}"
                sent = ApiAnswer(502, None, "", (("test", detail),))
        elif section == "webhook_delete":
            sent = call_api(self.app, req, "DELETE", f"{hooks}/{quote(form.get('hook_id', ''), safe='')}")
        elif section == "carriers":
            sent = _json_call(self.app, req, "PATCH", f"{base}/onbill", "carriers", form.get("carriers", ""))
        elif section == "gateway":
            kind = form.get("kind", "")
            if kind not in GATEWAYS:
                raise falcon.HTTPNotFound()
            sent = call_api(self.app, req, "POST", f"{base}/{kind}", gateway_body(kind, form))
        elif section == "template":
            carrier, kind = quote(form.get("carrier", ""), safe=""), form.get("document_type", "")
            raw = form.get("template", "").encode()
            path = f"/v2/accounts/{account_id}/onbill_templates/{carrier}/{quote(kind, safe='')}"
            sent = call_api(self.app, req, "PUT", path, raw=raw, content_type="text/html")
        else:
            raise falcon.HTTPNotFound()
        if sent.ok:
            lang = language_of(req.get_param("lang"), None)
            raise falcon.HTTPSeeOther(
                f"{CONSOLE_PREFIX}/accounts/{account_id}/settings?" + urlencode({"lang": lang, "done": section})
            )
        self._show(req, resp, account, failed=(section, form, sent), status=400)

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account: dict[str, Any],
        *,
        failed: tuple[str, dict[str, str], ApiAnswer] | None = None,
        done: str | None = None,
        status: int = 200,
    ) -> None:
        base = f"/v2/accounts/{account['_id']}"
        lang = language_of(req.get_param("lang"), None)
        hooks = call_api(self.app, req, "GET", f"{base}/billing_webhooks")
        logs = {
            hook["id"]: (call_api(self.app, req, "GET", f"{base}/billing_webhooks/{hook['id']}/deliveries").data or [])[
                :5
            ]
            for hook in (hooks.data or [])
        }
        onbill = call_api(self.app, req, "GET", f"{base}/onbill")
        gateways = {kind: call_api(self.app, req, "GET", f"{base}/{kind}") for kind in GATEWAYS}
        section, typed, refused = failed if failed else ("", {}, None)
        carriers_text = json.dumps((onbill.data or {}).get("carriers") or [], indent=2, ensure_ascii=False)
        self.render(
            resp,
            "settings.html",
            status,
            lang=lang,
            t=TEXTS[lang],
            account=account,
            hooks=hooks,
            logs=logs,
            event_types=EVENT_TYPES,
            carriers_text=typed.get("carriers", carriers_text) if section == "carriers" else carriers_text,
            carrier_ids=[c.get("id") for c in (onbill.data or {}).get("carriers") or [] if isinstance(c, dict)],
            carriers=[c for c in (onbill.data or {}).get("carriers") or [] if isinstance(c, dict)],
            gateways={
                kind: _gateway_values(
                    kind, found, typed if section == "gateway" and typed.get("kind") == kind else None
                )
                for kind, found in gateways.items()
            },
            gateway_fields={kind: setting_fields(kind) for kind in GATEWAYS},
            template_types=TEMPLATE_TYPES,
            failed_section=section if section != "gateway" else f"gateway_{typed.get('kind')}",
            problems=refused.problems or ((section, refused.message),) if refused else (),
            typed=typed,
            done=done,
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )


def gateway_body(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the API takes them: a switch on or off, an empty secret kept as
    stored, any other empty field removed."""
    body: dict[str, Any] = {}
    for field in setting_fields(kind):
        typed = form.get(field.name, "").strip()
        if field.kind == "flag":
            body[field.name] = form.get(field.name) == "on"
        elif field.kind == "secret":
            if typed:
                body[field.name] = typed
        else:
            body[field.name] = typed or None
    return body


def _gateway_values(kind: str, found: ApiAnswer, typed: dict[str, str] | None) -> dict[str, Any]:
    """What each field shows: as typed after a refusal (a secret never), else as stored (masked)."""
    stored = found.data if found.ok and isinstance(found.data, dict) else {}
    if typed is None:
        return {field.name: stored.get(field.name) for field in setting_fields(kind)}
    return {
        field.name: (typed.get(field.name) == "on")
        if field.kind == "flag"
        else (stored.get(field.name) if field.kind == "secret" else typed.get(field.name, ""))
        for field in setting_fields(kind)
    }


def _json_call(app: falcon.App, req: falcon.Request, method: str, path: str, key: str | None, text: str) -> ApiAnswer:
    """The JSON typed in a form, under `key` of the body (the whole body without one)."""
    try:
        value = json.loads(text or "null", parse_float=Decimal)
    except json.JSONDecodeError as error:
        return ApiAnswer(400, None, "", ((key or "settings", f"not JSON: {error.msg} at line {error.lineno}"),))
    return call_api(app, req, method, path, {key: value} if key else value)
