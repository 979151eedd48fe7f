"""What `kazbill api` serves: the crossbar API and, under /hooks/, the payment hooks, as one WSGI
app per gunicorn worker sharing one store connection. The two apps never import each other; they
meet here, in the entry points' layer (wired by the composition root), and in the store."""

from __future__ import annotations

import faulthandler
import os
import signal
from collections.abc import Callable, Iterable
from typing import Any

from bookkeeper.bootstrap import build_clock, build_store
from bookkeeper.config import load_settings
from bookkeeper.logs import configure as configure_logging

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
HOOKS_PREFIX = "/hooks/"
# Set by `kazbill api --clock-file` for its gunicorn workers: the API, the hooks and the billing
# service must share one "now", or a payment taken in an accelerated demo lands in its future.
CLOCK_FILE_VARIABLE = "KAZBILL_API_CLOCK_FILE"
# Set (to anything) for a worker that writes every thread's stack to its log on SIGUSR2: how a
# worker that answers but whose background thread (the logout feed) seems stuck is looked into
# without stopping it. gunicorn's workers leave SIGUSR2 to its default, which ends the worker.
THREAD_DUMPS_VARIABLE = "KAZBILL_API_THREAD_DUMPS"


def create() -> WsgiApp:
    import crossbar_api.wsgi
    import webhooks.wsgi

    settings = load_settings()
    configure_logging(settings.log_format)  # this worker's request lines, with their request ids
    if os.environ.get(THREAD_DUMPS_VARIABLE):
        faulthandler.register(signal.SIGUSR2, all_threads=True)  # to stderr: the worker's log
    store, clock = build_store(settings), build_clock(os.environ.get(CLOCK_FILE_VARIABLE))
    api = crossbar_api.wsgi.create(settings, store, clock)
    hooks = webhooks.wsgi.create(settings, store, clock)

    def dispatch(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        chosen = hooks if environ.get("PATH_INFO", "").startswith(HOOKS_PREFIX) else api
        return chosen(environ, start_response)

    return dispatch
