"""`kazbill ratedeck import` (a reseller's CSV deck, with a progress bar) and `kazbill ratedeck
rate` (which rate a number takes in a deck, and what a call of some seconds costs)."""

from __future__ import annotations

import sys

import click

from bookkeeper.bootstrap import build_store
from bookkeeper.domain.money import to_major
from bookkeeper.domain.rating import call_cost
from bookkeeper.services.payments.gateway_settings import NotAReseller
from bookkeeper.services.rating.rate_decks import import_rate_deck, load_rate_deck
from entrypoints.cli import Context, main, operator_errors


@main.group("ratedeck")
def ratedeck_group() -> None:
    """Import and query resellers' per-minute rate decks."""


@ratedeck_group.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--reseller", required=True, help="The reseller's account id.")
@click.option("--deck", required=True, help="The deck's name (lowercase letters, digits, _ or -).")
@click.pass_obj
@operator_errors
def import_command(obj: Context, csv_file, reseller: str, deck: str) -> None:
    """Replace a deck with the rates of CSV_FILE; nothing is written if any row is wrong."""
    lines = csv_file.readlines()
    store = build_store(obj.settings)
    with click.progressbar(length=max(len(lines) - 1, 0), label=f"importing {deck}", file=sys.stderr) as bar:
        try:
            result = import_rate_deck(store, reseller, deck, lines, progress=bar.update)
        except NotAReseller as error:
            raise click.BadParameter(str(error), param_hint="--reseller") from None
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--deck") from None
    for line, column, reason in result.report.errors:
        click.echo(f"{csv_file.name}:{line}: {column}: {reason}", err=True)
    if not result.report.ok:
        click.echo(f"kazbill: {len(result.report.errors)} problems; the deck was not changed", err=True)
        sys.exit(1)
    click.echo(f"{deck}: {result.written} rates written, {result.removed} old rates removed")


@ratedeck_group.command("rate")
@click.argument("number")
@click.option("--reseller", required=True)
@click.option("--deck", required=True)
@click.option("--seconds", type=click.IntRange(min=0), default=60, show_default=True, help="Billing seconds.")
@click.option("--direction", type=click.Choice(["inbound", "outbound"]), default=None)
@click.pass_obj
@operator_errors
def rate_command(obj: Context, number: str, reseller: str, deck: str, seconds: int, direction: str | None) -> None:
    """Show the rate NUMBER takes and what a call of --seconds costs."""
    rate = load_rate_deck(build_store(obj.settings), reseller, deck).find(number, direction)
    if rate is None:
        click.echo(f"{number}: no rate in {deck}; such a call is recorded as unrated", err=True)
        sys.exit(2)
    cost = call_cost(rate, seconds)
    click.echo(
        f"{number}: {rate.name or rate.rate_id} (prefix {rate.prefix}), {to_major(int(rate.cost_per_minute))}"
        f"/min; {seconds} s billed as {cost.billed_seconds} s = {to_major(cost.amount)}"
    )
