"""`kazbill`, the command line. Subcommands are added by each part of the product as it lands.

Errors an operator can act on (configuration, an unreachable store, a bad design document) end
as one line on stderr and exit status 1, never as a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from bookkeeper import __version__
from bookkeeper.config import ConfigError, Settings, load_settings
from bookkeeper.design_docs import DesignDocError
from bookkeeper.ports import StoreError

OPERATOR_ERRORS = (ConfigError, StoreError, DesignDocError)


def operator_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OPERATOR_ERRORS as error:
            click.echo(f"kazbill: error: {error}", err=True)
            sys.exit(1)

    return wrapper


class Context:
    def __init__(self, config_file: str | None):
        self.config_file = config_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_file=self.config_file)
        return self._settings


@click.group()
@click.version_option(__version__, prog_name="kazbill")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="KAZBILL_CONFIG",
    help="TOML configuration file (environment variables KAZBILL_* override it).",
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Kazbill: billing for Kazoo-style VoIP clusters."""
    ctx.obj = Context(config_file)


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@click.pass_obj
@operator_errors
def config_show(obj: Context) -> None:
    """Print every setting with its effective value (secrets masked)."""
    for name, value in obj.settings.describe().items():
        click.echo(f"{name}={'' if value is None else value}")


def _emit(report_json: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(report_json, indent=2, sort_keys=True))
    else:
        for line in lines:
            click.echo(line)


from entrypoints.cli import api as _api_command  # noqa: E402  (registers `kazbill api`)
from entrypoints.cli import audit as _audit_command  # noqa: E402  (registers `kazbill audit`)
from entrypoints.cli import bench as _bench_command  # noqa: E402  (registers `kazbill bench`)
from entrypoints.cli import demo as _demo_command  # noqa: E402  (registers `kazbill demo`)
from entrypoints.cli import failures as _failures_commands  # noqa: E402  (registers `kazbill failures`)
from entrypoints.cli import ratedeck as _ratedeck_commands  # noqa: E402  (registers `kazbill ratedeck`)
from entrypoints.cli import serve as _serve_commands  # noqa: E402  (registers `kazbill serve`, `bridge`)
from entrypoints.cli import simulate as _simulate_command  # noqa: E402  (registers `kazbill simulate`)
from entrypoints.cli import status as _status_command  # noqa: E402  (registers `kazbill status`)
from entrypoints.cli import store as _store_commands  # noqa: E402  (registers `kazbill store`)
from entrypoints.cli import users as _users_commands  # noqa: E402  (registers `kazbill users`, `api-key`)

__all__ = [
    "main",
    "_api_command",
    "_audit_command",
    "_bench_command",
    "_demo_command",
    "_failures_commands",
    "_ratedeck_commands",
    "_serve_commands",
    "_simulate_command",
    "_status_command",
    "_store_commands",
    "_users_commands",
]
