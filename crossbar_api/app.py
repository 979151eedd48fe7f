"""The API's one factory: `create_app(deps)` for tests and for gunicorn (`crossbar_api.wsgi`).
Resources are nouns that get their dependencies here; nothing is built at import time."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import falcon

from bookkeeper.domain.periods import local_day
from bookkeeper.domain.settings import SettingsError
from bookkeeper.services.billing.crawl_plan import reseller_timezone
from crossbar_api import errors
from crossbar_api.console.pages import console_routes
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.metrics import MetricsAccess, RequestMetrics, store_gauges
from crossbar_api.middleware import RequestContext
from crossbar_api.openapi import openapi_document
from crossbar_api.portal.pages import portal_routes
from crossbar_api.routes import ROUTES


class Health:
    """The store decides the status (the API cannot answer without it); the bus is reported,
    since the API itself does not need it to serve balances and settings."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            server = self.deps.store.server_info()
            store = {"ok": True, "adapter": server.adapter, "version": server.version}
        except Exception as error:  # noqa: BLE001 - any failure is "store down" to a health check
            store = {"ok": False, "error": str(error)}
        answer(req, resp, {"store": store, "bus": self._bus()}, status=200 if store["ok"] else 503)

    def _bus(self) -> dict[str, Any]:
        if not self.deps.amqp_url:
            return {"ok": None, "configured": False}
        parts = urlsplit(self.deps.amqp_url)
        address = (parts.hostname or "127.0.0.1", parts.port or (5671 if parts.scheme == "amqps" else 5672))
        try:
            with socket.create_connection(address, timeout=1.0):
                return {"ok": True, "address": f"{address[0]}:{address[1]}"}
        except OSError as error:
            return {"ok": False, "address": f"{address[0]}:{address[1]}", "error": error.strerror or str(error)}


class OpenApi:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = openapi_document(ROUTES)


def _reseller_today(deps: ApiDeps) -> Callable[[str], date]:
    def today(reseller_id: str) -> date:
        try:
            return local_day(deps.clock.now(), reseller_timezone(deps.store, reseller_id))
        except SettingsError:  # a reseller whose settings cannot be read: its crawl says so elsewhere
            return deps.clock.now().date()

    return today


def create_app(deps: ApiDeps) -> falcon.App:
    metrics = RequestMetrics(
        lambda: store_gauges(deps.store, deps.cluster_node, _reseller_today(deps)),
        MetricsAccess(deps.metrics_token, deps.metrics_port),
    )
    middleware: list[Any] = [RequestContext(deps), metrics]
    if deps.cors_origins:  # a Monster UI app calling from Kazoo's own origin, with Kazoo's token
        origins = "*" if "*" in deps.cors_origins else list(deps.cors_origins)
        middleware.insert(0, falcon.CORSMiddleware(allow_origins=origins, expose_headers=["X-Request-ID"]))
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app)
    for route in ROUTES:
        app.add_route(route.path, route.make(deps))
    app.add_route("/health", Health(deps))
    app.add_route("/v2/openapi.json", OpenApi())
    app.add_route("/metrics", metrics)
    portal_routes(app, deps)
    console_routes(app, deps)
    return app
