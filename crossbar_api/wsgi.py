"""The gunicorn target: `gunicorn 'crossbar_api.wsgi:create()'`. Each worker builds its app
after the fork, so no connection is shared across processes or opened at import time."""

from __future__ import annotations

import contextlib
import secrets
import socket

import falcon

from bookkeeper.adapters.clock import SystemClock
from bookkeeper.bootstrap import build_card_gateways, build_store, build_usage_limits, build_webhook_poster
from bookkeeper.config import Settings, load_settings
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import Clock, Conflict, DocumentStore, StoreError
from crossbar_api.app import create_app
from crossbar_api.auth import TokenSigner
from crossbar_api.deps import ApiDeps
from crossbar_api.logout_marks import LogoutMarks
from crossbar_api.month_tops import MonthTops
from crossbar_api.revocation_records import RevocationSweep
from crossbar_api.revocations import ReadEveryTime, RevocationFeed, Revocations
from crossbar_api.sessions import RecentDocuments

SECRET_DOC = "api_token_secret"


def token_secret(settings: Settings, store: DocumentStore) -> bytes:
    """The configured secret, else one made once and kept in the store, so that every worker
    (and every node) verifies the tokens any other issued."""
    if settings.api_token_secret:
        return settings.api_token_secret.encode()
    store.ensure_database(SYSTEM_DB)
    with contextlib.suppress(Conflict):  # another worker made it first: use theirs
        store.put(SYSTEM_DB, {"_id": SECRET_DOC, "pvt_type": "kazbill_secret", "secret": secrets.token_hex(32)})
    return store.get(SYSTEM_DB, SECRET_DOC)["secret"].encode()


def _answers_longpolls(store: DocumentStore) -> bool:
    """CouchDB answers a quiet longpoll when its wait ends; pouchdb-server holds it until a change
    comes, so a feed on it would seem unanswered whenever nobody logs out. A store not reachable
    now is taken for CouchDB: the feed reads the store per request until it answers."""
    try:
        return store.server_info().vendor == "couchdb"
    except StoreError:
        return True


def metrics_port(settings: Settings) -> int | None:
    """The port of the listener `kazbill api` adds for /metrics (gunicorn reports it per request)."""
    return int(settings.api_metrics_bind.rpartition(":")[2]) if settings.api_metrics_bind else None


def create(
    settings: Settings | None = None, store: DocumentStore | None = None, clock: Clock | None = None
) -> falcon.App:
    settings = settings or load_settings()
    store = store or build_store(settings)
    clock = clock or SystemClock()

    # Tokens expire by the API's clock (a demo's may be a file's): so do their revocations.
    def api_time() -> float:
        return clock.now().timestamp()

    sweep = RevocationSweep(api_time)
    revocations: Revocations = ReadEveryTime(sweep)  # the embedded store answers that read in microseconds
    month_tops = None  # on the embedded store a page costs a millisecond: nothing kept
    if settings.store_url and _answers_longpolls(store):  # CouchDB: a request a request, so the feed
        marks = LogoutMarks.for_store(settings.store_url)
        revocations = RevocationFeed(store, marks, wall=api_time, sweep=sweep).start()
        month_tops = MonthTops()
    deps = ApiDeps(
        store=store,
        clock=clock,
        design_docs=load_design_docs(),
        tokens=TokenSigner(token_secret(settings, store), settings.api_token_ttl_s),
        recent=RecentDocuments(settings.api_auth_cache_s),
        trusted_proxy_header=settings.api_trusted_proxy_header,
        metrics_token=settings.api_metrics_token,
        metrics_port=metrics_port(settings),
        node=f"kazbill@{socket.gethostname()}",
        amqp_url=settings.amqp_url,
        public_url=settings.public_url.rstrip("/"),
        card_gateways=build_card_gateways(settings),
        cluster_node=settings.node,
        usage_limits=build_usage_limits(settings),
        webhook_poster=build_webhook_poster(settings),
        cors_origins=tuple(origin.strip() for origin in (settings.api_cors_origins or "").split(",") if origin.strip()),
        revocations=revocations,
        month_tops=month_tops,
    )
    return create_app(deps)
