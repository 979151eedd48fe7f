"""The resellers' console: server-rendered pages on the API's own Falcon app, in English, Russian
and German, with no JavaScript. Reading needs the console's session cookie; every POST also needs
the form token, goes through the same services as the API, and answers with a redirect back to
the page saying what was done or what was wrong.

    GET  /console                                     → the caller's dashboard, or the login form
    GET  /console/login, POST /console/login          log in with Kazoo's user name and password
    POST /console/logout
    POST /console/sso                                 a Kazoo token (Monster UI's) as the session
    GET  /console/accounts/{id}/dashboard             totals, and what waits for a person
    GET  /console/accounts/{id}/customers             the accounts below (?q=&standing=&blocked=...)
    GET  /console/accounts/{id}/customers.csv         the same, every row, as CSV
    GET  /console/accounts/{id}                       one customer: services, ledger, documents
    GET  /console/accounts/{id}/documents/{doc_id}    one of its documents (PDF)
    POST /console/accounts/{id}/ledgers               a credit or a debit, with a reason
    POST /console/accounts/{id}/actions/{name}        trial, limits, plan, block (actions.py)
    GET, POST /console/accounts/{id}/rate_decks       upload, progress, lookup (rate_decks.py)
    GET, POST /console/accounts/{id}/plans            the catalogue, edited (plans.py)
    GET  /console/accounts/{id}/settings[/{section}]  webhooks, carriers, gateways, templates
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape

from bookkeeper.domain.documents.dates import shown_day
from bookkeeper.domain.kazoo_months import utc_month
from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.domain.money import MoneyError
from bookkeeper.ports import gregorian_now
from bookkeeper.services.documents.document_listing import NoSuchDocument, NotRendered, document_pdf
from bookkeeper.services.operations.customer_listing import all_customers, customers_page
from bookkeeper.services.payments.postings import MANUAL_CREDITS, PaymentError, PostingRefused
from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX, account_for, authenticate, billing_context
from crossbar_api.console.actions import ACTIONS, CustomerAction, account_settings, audit_of
from crossbar_api.console.carrier_form import CarrierPage
from crossbar_api.console.plan_form import PlanPage
from crossbar_api.console.plans import PlansPage
from crossbar_api.console.postings import post_from_form
from crossbar_api.console.rate_decks import RateDecksPage
from crossbar_api.console.settings import SettingsPage
from crossbar_api.console.texts import TEXTS
from crossbar_api.console.view_model import customer_model, dashboard_model, list_model
from crossbar_api.csv_export import stream_csv
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.page_login import form_login, refuse_cross_site
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of
from crossbar_api.resources.customers import CSV_HEADER, csv_rows, customer_filter, key_of, position_of

PAGE_SIZE = 50
TEMPLATES = Environment(loader=PackageLoader("crossbar_api.console", "templates"), autoescape=select_autoescape())
TEMPLATES.filters["day"] = lambda iso, lang: shown_day(date.fromisoformat(str(iso)), lang) if iso else ""
TEMPLATES.filters["moment"] = lambda gregorian: (
    datetime.fromtimestamp(from_gregorian_seconds(gregorian), UTC).strftime("%Y-%m-%d %H:%M UTC") if gregorian else ""
)
COOKIE = {"cookie": CONSOLE_COOKIE, "path": CONSOLE_PREFIX}


def _render(resp: falcon.Response, template: str, status: int = 200, **values: Any) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = "text/html; charset=utf-8"
    resp.set_header("Cache-Control", "no-store")
    resp.set_header("X-Frame-Options", "DENY")
    resp.text = TEMPLATES.get_template(template).render(**values)


def _lang(req: falcon.Request) -> str:
    return language_of(req.get_param("lang"), None)


def _reading(req: falcon.Request, deps: ApiDeps, account_id: str) -> dict[str, Any]:
    """The account, once the session may see it; no session (or an expired one): the login form."""
    try:
        return account_for(req, deps, account_id)
    except ApiError as error:
        if error.status == 401:
            raise falcon.HTTPSeeOther(f"{CONSOLE_PREFIX}/login?lang={_lang(req)}") from None
        raise


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
        session.start(req, resp, token, int(self.deps.tokens.ttl_s), **COOKIE)
        resp.status = falcon.HTTP_303
        resp.location = f"{CONSOLE_PREFIX}/accounts/{caller.account_id}/dashboard?lang={lang}"


class KazooSignOn:
    """POST /console/sso with `auth_token`, Kazoo's own token (a Monster UI app's form): checked as
    the API checks it (crossbar_api.kazoo_tokens), then kept as the console's session."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_cross_site(req, self.deps)  # login CSRF: another site's token as the visitor's session
        token = read_form(req).get("auth_token", "").strip()
        now = self.deps.clock.now().timestamp()
        claims = self.deps.kazoo_tokens.claims(token, now) if token and self.deps.kazoo_tokens else None
        if claims is None:
            raise ApiError(
                401, "invalid credentials", {"auth_token": {"kazoo": {"message": "not a valid Kazoo token"}}}
            )
        session.start(req, resp, token, max(1, int(claims.expires - now)), **COOKIE)
        resp.status = falcon.HTTP_303
        resp.location = f"{CONSOLE_PREFIX}/accounts/{claims.caller.account_id}/dashboard?lang={_lang(req)}"


class Home:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            caller: Any = authenticate(req, self.deps)
        except ApiError:
            caller = None
        where = f"/accounts/{caller.account_id}/dashboard" if caller else "/login"
        raise falcon.HTTPSeeOther(f"{CONSOLE_PREFIX}{where}")


class Logout:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            authenticate(req, self.deps)
            self.deps.revocations.revoke(self.deps.store, req.context.claims)
        except ApiError:
            pass  # no session, or one that no longer works: nothing to revoke
        session.end(resp, **COOKIE)
        resp.status = falcon.HTTP_303
        resp.location = f"{CONSOLE_PREFIX}/login"


class Dashboard:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = _reading(req, self.deps, account_id)
        lang = _lang(req)
        _render(
            resp,
            "dashboard.html",
            lang=lang,
            t=TEXTS[lang],
            account=account,
            m=dashboard_model(self.deps.store, account_id, lang, utc_month(gregorian_now(self.deps.clock))),
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )


class Customers:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = _reading(req, self.deps, account_id)
        lang, wanted, now = _lang(req), customer_filter(req), gregorian_now(self.deps.clock)
        start = req.get_param("start_key")
        page = customers_page(
            self.deps.store, account_id, wanted, now, page_size=PAGE_SIZE, start=position_of(start) if start else None
        )
        asked = {key: req.get_param(key) for key in ("q", "standing", "blocked", "trial", "depth", "closed")}
        asked = {key: value for key, value in asked.items() if value}
        _render(
            resp,
            "customers.html",
            lang=lang,
            t=TEXTS[lang],
            account=account,
            rows=list_model(page, lang, now),
            asked=asked,
            next_url=None
            if page.next_position is None
            else "?" + urlencode({**asked, "lang": lang, "start_key": key_of(page.next_position)}),
            first_url=("?" + urlencode({**asked, "lang": lang})) if start else None,
            csv_url=f"{CONSOLE_PREFIX}/accounts/{account_id}/customers.csv?" + urlencode(asked),
            form_token=session.form_token(req.context.token),  # the header's log-out button
            home=req.context.caller.account_id,
        )


class CustomersCsv:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        _reading(req, self.deps, account_id)
        now = gregorian_now(self.deps.clock)
        rows = all_customers(self.deps.store, account_id, customer_filter(req), now)
        stream_csv(resp, f"customers-{account_id}.csv", CSV_HEADER, csv_rows(rows, now))


class Customer:
    def __init__(self, deps: ApiDeps, app: falcon.App):
        self.deps, self.app = deps, app

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = _reading(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        lang = _lang(req)
        done = req.get_param("done")
        _render(
            resp,
            "customer.html",
            lang=lang,
            t=TEXTS[lang],
            m=(m := customer_model(self.deps, account, context, lang, req.get_param("period"))),
            audit=audit_of(self.app, req, account_id, m["period"]["start"], min(m["period"]["end"], m["today"])),
            settings=account_settings(self.app, req, account_id),
            manual_block=context.account.manual_block,
            on_trial=account.get("pvt_trial_expires") is not None,
            credit_reasons=MANUAL_CREDITS,
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
            done=done if done in ("credit", "debit", *ACTIONS) else None,
            error=req.get_param("error"),
        )


class CustomerDocument:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        _reading(req, self.deps, account_id)
        try:
            name, pdf = document_pdf(self.deps.store, account_id, doc_id)
        except (NoSuchDocument, NotRendered) as error:
            raise falcon.HTTPNotFound(description=error.reason) from None
        resp.content_type = "application/pdf"
        resp.downloadable_as = name
        resp.data = pdf


class Posting:
    """A credit or a debit from the customer's page: the API's own postings (Idempotency-Key: the
    page's key, so a form sent twice posts once), then back to the page."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        form = read_form(req)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        account_for(req, self.deps, account_id, write=True, from_above=True)
        page = f"{CONSOLE_PREFIX}/accounts/{account_id}?lang={_lang(req)}"
        try:
            direction = post_from_form(self.deps, req.context.caller, account_id, form)
        except (MoneyError, PaymentError, PostingRefused) as error:
            raise falcon.HTTPSeeOther(f"{page}&{urlencode({'error': _said(error)})}") from None
        raise falcon.HTTPSeeOther(f"{page}&done={direction}")


def _said(error: Exception) -> str:
    field = getattr(error, "field", None)
    reason = getattr(error, "reason", None) or str(error)
    return f"{field}: {reason}" if field else reason


def console_routes(app: falcon.App, deps: ApiDeps) -> None:
    app.add_route(CONSOLE_PREFIX, Home(deps))
    app.add_route(f"{CONSOLE_PREFIX}/login", Login(deps))
    app.add_route(f"{CONSOLE_PREFIX}/logout", Logout(deps))
    app.add_route(f"{CONSOLE_PREFIX}/sso", KazooSignOn(deps))
    page = f"{CONSOLE_PREFIX}/accounts/{{account_id}}"
    app.add_route(f"{page}/dashboard", Dashboard(deps))
    app.add_route(f"{page}/customers", Customers(deps))
    app.add_route(f"{page}/customers.csv", CustomersCsv(deps))
    app.add_route(page, Customer(deps, app))
    app.add_route(f"{page}/actions/{{name}}", CustomerAction(deps, app))
    app.add_route(f"{page}/rate_decks", RateDecksPage(deps, app, _render, _reading))
    app.add_route(f"{page}/plans", PlansPage(deps, app, _render, _reading))
    app.add_route(f"{page}/plans/{{plan_id}}", PlanPage(deps, app, _render, _reading))
    settings = SettingsPage(deps, app, _render, _reading)
    app.add_route(f"{page}/settings", settings)
    app.add_route(f"{page}/settings/{{section}}", settings)
    app.add_route(f"{page}/settings/carriers/{{carrier_id}}", CarrierPage(deps, app, _render, _reading))
    app.add_route(f"{page}/documents/{{doc_id}}", CustomerDocument(deps))
    app.add_route(f"{page}/ledgers", Posting(deps))
