"""The API's one factory: `create_app(deps)` for tests and for gunicorn (`crossbar_api.wsgi`).
Resources are nouns that get their dependencies here; nothing is built at import time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import falcon

from crossbar_api import errors
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.middleware import RequestContext
from crossbar_api.openapi import openapi_document
from crossbar_api.resources.auth import ApiAuth, UserAuth
from crossbar_api.resources.money import CurrentBalance, ManualLedger, Transactions
from crossbar_api.resources.status import BillingStatus

ACCOUNT = "/v2/accounts/{account_id}"


@dataclass(frozen=True)
class Route:
    path: str
    make: Callable[[ApiDeps], Any]
    summary: str
    body: dict[str, Any] | None = None  # JSON schema of `data` for PUT/POST
    query: tuple[str, ...] = ()


ROUTES = (
    Route("/v2/user_auth", UserAuth, "Log in with md5(\"user:password\") and an account name or realm",
          {"credentials": "string", "account_name": "string", "realm": "string", "method": "string"}),
    Route("/v2/api_auth", ApiAuth, "Log in with an account's API key", {"api_key": "string"}),
    Route(f"{ACCOUNT}/transactions/current_balance", lambda d: CurrentBalance(d, "balance"),
          "The account's balance now, in currency units"),
    Route(f"{ACCOUNT}/ledgers/total", lambda d: CurrentBalance(d, "amount"), "The account's balance (Kazoo 4.3)"),
    Route(f"{ACCOUNT}/transactions", Transactions, "Credits and debits created in a range, newest first",
          query=("created_from", "created_to", "reason", "page_size", "start_key")),
    Route(f"{ACCOUNT}/ledgers/credit", lambda d: ManualLedger(d, "credit"),
          "A reseller's manual credit (wire transfer); Idempotency-Key makes repeats safe",
          {"amount": "number", "description": "string", "reason": "string"}),
    Route(f"{ACCOUNT}/ledgers/debit", lambda d: ManualLedger(d, "debit"),
          "A reseller's balance-correction debit; Idempotency-Key makes repeats safe",
          {"amount": "number", "description": "string", "reason": "string"}),
    Route(f"{ACCOUNT}/billing_status", BillingStatus, "Trial, standing, block, billing day and current period"),
)


class Health:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            server = self.deps.store.server_info()
            store = {"ok": True, "adapter": server.adapter, "version": server.version}
        except Exception as error:  # noqa: BLE001 - any failure is "store down" to a health check
            store = {"ok": False, "error": str(error)}
        answer(req, resp, {"store": store}, status=200 if store["ok"] else 503)


class OpenApi:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = openapi_document(ROUTES)


def create_app(deps: ApiDeps) -> falcon.App:
    app = falcon.App(middleware=[RequestContext(deps)])
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app)
    for route in ROUTES:
        app.add_route(route.path, route.make(deps))
    app.add_route("/health", Health(deps))
    app.add_route("/v2/openapi.json", OpenApi())
    return app
