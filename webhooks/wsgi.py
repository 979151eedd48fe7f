"""The gunicorn target for the hooks alone: `gunicorn 'webhooks.wsgi:create()'` (a public-facing
node can serve only these). `kazbill api` serves them next to the API (`entrypoints.web`)."""

from __future__ import annotations

import falcon

from bookkeeper.bootstrap import build_hook_ports
from bookkeeper.config import Settings, load_settings
from bookkeeper.ports import Clock, DocumentStore
from webhooks.app import create_app


def create(
    settings: Settings | None = None, store: DocumentStore | None = None, clock: Clock | None = None
) -> falcon.App:
    settings = settings or load_settings()
    return create_app(build_hook_ports(settings, store, clock))
