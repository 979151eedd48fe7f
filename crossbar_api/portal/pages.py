"""The payments page's routes. Reading needs the session cookie; every POST also needs the form
token, and answers with a redirect back to the page (303) saying what was done or what was wrong.

    GET  /portal                                      → the caller's own page, or the login form
    GET  /portal/login, POST /portal/login            log in with Kazoo's user name and password
    POST /portal/logout
    GET  /portal/accounts/{id}                        the page (?lang=en|ru)
    POST /portal/accounts/{id}/topup | cards | cards/{token}/default | cards/{token}/delete
                               | auto_topup | proforma
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape

from bookkeeper.domain.documents.dates import shown_day
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.money import MoneyError, exact_units
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.usage_limits import LimitReached
from bookkeeper.services.documents.document_listing import NoSuchDocument, NotRendered, document_pdf
from bookkeeper.services.documents.period_documents import DocumentPorts, NoCarrier
from bookkeeper.services.documents.proforma_requests import issue_proforma, request_proforma
from bookkeeper.services.payments.auto_topup_settings import configure_auto_topup
from bookkeeper.services.payments.card_payments import CardError, add_card, delete_card, make_default, top_up
from crossbar_api.access import account_for, authenticate, billing_context, token_of
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.page_login import form_login
from crossbar_api.portal import session
from crossbar_api.portal.texts import TEXTS, language_of
from crossbar_api.portal.view_model import page_model
from crossbar_api.resources.cards import card_ports

TEMPLATES = Environment(loader=PackageLoader("crossbar_api.portal", "templates"), autoescape=select_autoescape())
# Days as the reader writes them (30.11.2026, 30 November 2026), like the documents and emails.
TEMPLATES.filters["day"] = lambda iso, lang: shown_day(date.fromisoformat(str(iso)), lang) if iso else ""


def _render(resp: falcon.Response, template: str, status: int = 200, **values: Any) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = "text/html; charset=utf-8"
    resp.set_header("Cache-Control", "no-store")
    resp.set_header("X-Frame-Options", "DENY")
    resp.text = TEMPLATES.get_template(template).render(**values)


def _redirect(location: str) -> None:
    raise falcon.HTTPSeeOther(location)


def _lang(req: falcon.Request) -> str:
    return language_of(req.get_param("lang"), None)


class Login:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        lang = _lang(req)
        _render(resp, "login.html", lang=lang, t=TEXTS[lang], error=False, account_name_given="")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lang = _lang(req)
        signed_in, name = form_login(req, self.deps)
        if signed_in is None:
            _render(resp, "login.html", 401, lang=lang, t=TEXTS[lang], error=True, account_name_given=name)
            return
        caller, token = signed_in
        session.start(req, resp, token, int(self.deps.tokens.ttl_s))
        resp.status = falcon.HTTP_303
        resp.location = f"/portal/accounts/{caller.account_id}?lang={lang}"


class Home:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req)
        caller = self.deps.tokens.verify(token, self.deps.clock.now().timestamp()) if token else None
        _redirect(f"/portal/accounts/{caller.account_id}" if caller else "/portal/login")


class Logout:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            authenticate(req, self.deps)
            self.deps.revocations.revoke(
                self.deps.store, req.context.claims
            )  # the token stops working everywhere, not only here
        except ApiError:
            pass  # no session, or one that no longer works: nothing to revoke
        session.end(resp)
        resp.status = falcon.HTTP_303
        resp.location = "/portal/login"


class Page:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        try:
            account = account_for(req, self.deps, account_id)
        except ApiError as error:
            if error.status == 401:  # no session, or it expired
                _redirect("/portal/login")
            raise
        context = billing_context(self.deps, account_id)
        lang = language_of(req.get_param("lang"), context.account.language)
        done = req.get_param("done")
        _render(
            resp,
            "payments.html",
            lang=lang,
            t=TEXTS[lang],
            account_name=account.get("name"),
            m=page_model(self.deps, account, context, lang, req.get_param("period")),
            form_token=session.form_token(req.context.token),
            done=done if done and f"done_{done}" in TEXTS[lang] else None,
            error=req.get_param("error"),
        )


class DocumentPdf:
    """One of the account's documents, for the people who may see the page."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        try:
            account_for(req, self.deps, account_id)
        except ApiError as error:
            if error.status == 401:
                _redirect("/portal/login")
            raise
        try:
            name, pdf = document_pdf(self.deps.store, account_id, doc_id)
        except (NoSuchDocument, NotRendered) as error:
            raise falcon.HTTPNotFound(description=error.reason) from None
        resp.content_type = "application/pdf"
        resp.viewable_as = name  # inline: the browser shows it (and saves it under its name)
        resp.data = pdf


class Action:
    """One POST of the page: checked, done through the bookkeeper's handlers, then back to the page."""

    def __init__(self, deps: ApiDeps, name: str):
        self.deps, self.name = deps, name

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, token: str | None = None) -> None:
        form = read_form(req)
        if not session.check_form(req, form):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        account_for(req, self.deps, account_id, write=True)
        page = f"/portal/accounts/{account_id}"
        try:
            ACTIONS[self.name](self, req, account_id, form, token)
        except (CardError, GatewayFieldError, MoneyError, LimitReached, NoCarrier) as error:
            _redirect(f"{page}?{urlencode({'error': str(error)})}")
        _redirect(f"{page}?done={self.name if self.name != 'cards' else 'card'}")

    def _by(self, req: falcon.Request) -> str:
        return f"{req.context.caller.account_id}/{req.context.caller.user_id or 'api_key'}"

    def topup(self, req: falcon.Request, account_id: str, form: dict[str, str], _: Any) -> None:
        record, _ = top_up(
            card_ports(self.deps),
            account_id,
            exact_units(form.get("amount", ""), "amount"),
            f"portal-{form.get('key', '')}",
            by=self._by(req),
        )
        if record["state"] == "declined":
            raise CardError(402, "card", f"declined: {record.get('reason')}")

    def cards(self, req: falcon.Request, account_id: str, form: dict[str, str], _: Any) -> None:
        add_card(card_ports(self.deps), account_id, form.get("payment_method_nonce") or None)

    def default(self, req: falcon.Request, account_id: str, form: dict[str, str], token: str) -> None:
        make_default(card_ports(self.deps), account_id, token)

    def deleted(self, req: falcon.Request, account_id: str, form: dict[str, str], token: str) -> None:
        delete_card(card_ports(self.deps), account_id, token)

    def auto(self, req: falcon.Request, account_id: str, form: dict[str, str], _: Any) -> None:
        values = {key: exact_units(form[key], key) if form.get(key) else None for key in ("threshold", "amount")}
        configure_auto_topup(
            self.deps.store,
            account_id,
            billing_context(self.deps, account_id).reseller_id,
            enabled=form.get("enabled") == "true",
            **values,
        )

    def proforma(self, req: falcon.Request, account_id: str, form: dict[str, str], _: Any) -> None:
        context = billing_context(self.deps, account_id)
        ports = DocumentPorts(self.deps.store, self.deps.clock, self.deps.design_docs)
        request_id = request_proforma(
            ports,
            account_id,
            amount=exact_units(form.get("amount", ""), "amount"),
            currency=context.reseller.currency,
            by=self._by(req),
            now_gregorian=gregorian_now(self.deps.clock),
            limit=self.deps.usage_limits.proformas,
        )
        issue_proforma(ports, account_id, request_id)


ACTIONS: dict[str, Callable[..., None]] = {
    "topup": Action.topup,
    "cards": Action.cards,
    "default": Action.default,
    "deleted": Action.deleted,
    "auto": Action.auto,
    "proforma": Action.proforma,
}


def portal_routes(app: falcon.App, deps: ApiDeps) -> None:
    app.add_route("/portal", Home(deps))
    app.add_route("/portal/login", Login(deps))
    app.add_route("/portal/logout", Logout(deps))
    app.add_route("/portal/accounts/{account_id}", Page(deps))
    app.add_route("/portal/accounts/{account_id}/documents/{doc_id}", DocumentPdf(deps))
    page = "/portal/accounts/{account_id}"
    app.add_route(f"{page}/topup", Action(deps, "topup"))
    app.add_route(f"{page}/cards", Action(deps, "cards"))
    app.add_route(f"{page}/cards/{{token}}/default", Action(deps, "default"))
    app.add_route(f"{page}/cards/{{token}}/delete", Action(deps, "deleted"))
    app.add_route(f"{page}/auto_topup", Action(deps, "auto"))
    app.add_route(f"{page}/proforma", Action(deps, "proforma"))
