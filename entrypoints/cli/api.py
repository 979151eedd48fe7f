"""`kazbill api`: the crossbar API under gunicorn, with the bind address and workers from config."""

from __future__ import annotations

import os
import shutil
import sys

import click

from bookkeeper.config import Settings
from entrypoints.cli import Context, main, operator_errors
from entrypoints.web import CLOCK_FILE_VARIABLE

GUNICORN_TARGET = "entrypoints.web:create()"  # the API and the payment hooks


@main.command("api")
@click.option("--bind", help="Address to listen on (default: KAZBILL_API_BIND).")
@click.option("--workers", type=int, help="Worker processes (default: KAZBILL_API_WORKERS).")
@click.option(
    "--clock-file",
    type=click.Path(dir_okay=False),
    help="Read 'now' from this file (ISO-8601) instead of the system clock, like `kazbill serve "
    "--clock-file`: a payment taken during an accelerated demo is dated in the demo's time.",
)
@click.pass_obj
@operator_errors
def api(obj: Context, bind: str | None, workers: int | None, clock_file: str | None) -> None:
    """Serve the reseller-facing REST API (Kazoo crossbar-shaped) with gunicorn."""
    settings = obj.settings
    if clock_file:
        os.environ[CLOCK_FILE_VARIABLE] = os.path.abspath(clock_file)  # read by each worker (entrypoints.web)
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed; run ./scripts/setup")
    if obj.config_file:
        os.environ["KAZBILL_CONFIG"] = obj.config_file  # the workers load the same configuration
    bind = bind or settings.api_bind
    if settings.api_metrics_bind and settings.api_metrics_bind.rpartition(":")[2] == bind.rpartition(":")[2]:
        # The app tells the metrics listener by its port alone: sharing the API's would publish them.
        raise click.ClickException("KAZBILL_API_METRICS_BIND needs a port of its own, not the API's")
    args = [
        gunicorn,
        GUNICORN_TARGET,
        "--bind",
        bind,
        "--workers",
        str(workers or settings.api_workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        *worker_options(settings),
    ]
    if settings.api_metrics_bind:  # a second listener; the app answers /metrics only there (or to its token)
        args += ["--bind", settings.api_metrics_bind]
    os.execv(gunicorn, args)


def worker_options(settings: Settings) -> list[str]:
    """gthread: each worker's main loop accepts and polls connections while its threads answer,
    so a client trickling its headers holds one thread, never the whole worker, and the master
    does not kill a worker for it (a sync worker blocks on the first slow client). gunicorn sets
    no deadline on headers, so once every thread of a worker holds a slow client its requests
    queue behind them: the buffering proxy in front (docker/nginx.conf, docs/api.md) keeps slow
    clients from reaching the API at all."""
    if settings.api_worker_class == "sync":
        return ["--worker-class", "sync"]
    return [
        "--worker-class",
        "gthread",
        "--threads",
        str(settings.api_threads),
        "--worker-connections",
        str(max(1000, settings.api_threads * 4)),
    ]
