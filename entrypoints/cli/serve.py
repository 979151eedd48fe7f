"""`kazbill serve` and `kazbill bridge`: the running service (see actors/service.py)."""

from __future__ import annotations

import sys

import click

from bookkeeper.logs import configure as configure_logging
from entrypoints.cli import Context, main, operator_errors


@main.command("serve")
@click.option("--no-api", is_flag=True, help="Run without the REST API (it can run apart: `kazbill api`).")
@click.option(
    "--clock-file",
    type=click.Path(dir_okay=False),
    help="Read 'now' from this file (ISO-8601) instead of the system clock: tests and demos.",
)
@click.pass_obj
@operator_errors
def serve(obj: Context, no_api: bool, clock_file: str | None) -> None:
    """Run the actor system, the bridges and the API until SIGTERM."""
    from actors.service import serve as run

    configure_logging(obj.settings.log_format)
    sys.exit(run(obj.settings, with_api=not no_api, clock_file=clock_file))


@main.command("bridge")
@click.argument("name", type=click.Choice(["amqp", "couchdb"]))
@click.option("--admin-port", type=int, help="The actor system's admin port (default: KAZBILL_ACTOR_PORT).")
@click.option("--clock-file", type=click.Path(dir_okay=False))
@click.pass_obj
@operator_errors
def bridge(obj: Context, name: str, admin_port: int | None, clock_file: str | None) -> None:
    """Run one bridge against a running `kazbill serve` (serve starts them itself)."""
    from actors.bridges.run import RUNNERS

    configure_logging(obj.settings.log_format)
    try:
        RUNNERS[name](obj.settings, admin_port or obj.settings.actor_admin_port, clock_file)
    except ConnectionError as error:
        click.echo(f"kazbill: error: {error}", err=True)
        sys.exit(1)
