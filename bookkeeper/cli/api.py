"""`kazbill api`: the crossbar API under gunicorn, with the bind address and workers from config."""
from __future__ import annotations

import os
import shutil
import sys

import click

from bookkeeper.cli import Context, main, operator_errors

GUNICORN_TARGET = "bookkeeper.web:create()"  # the API and the payment hooks


@main.command("api")
@click.option("--bind", help="Address to listen on (default: KAZBILL_API_BIND).")
@click.option("--workers", type=int, help="Worker processes (default: KAZBILL_API_WORKERS).")
@click.pass_obj
@operator_errors
def api(obj: Context, bind: str | None, workers: int | None) -> None:
    """Serve the reseller-facing REST API (Kazoo crossbar-shaped) with gunicorn."""
    settings = obj.settings
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed; run ./scripts/setup")
    if obj.config_file:
        os.environ["KAZBILL_CONFIG"] = obj.config_file  # the workers load the same configuration
    args = [gunicorn, GUNICORN_TARGET, "--bind", bind or settings.api_bind,
            "--workers", str(workers or settings.api_workers), "--access-logfile", "-",
            "--graceful-timeout", "10"]
    os.execv(gunicorn, args)
