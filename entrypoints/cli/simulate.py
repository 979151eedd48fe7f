"""`kazbill simulate`: a Kazoo-shaped cluster's traffic at a chosen scale, written into the store
the way Kazoo writes it, day by day on a clock the simulator moves; with `--service-port` a
running `kazbill serve --clock-file` (same file) crawls each day and follows every change before
the next (it waits on the changes follower's checkpoints, so the service must follow the store
too). With `--publish` Kazoo's AMQP notices and call events go out as well. The accounts' true
quantities are written to `--history` for `kazbill audit --history`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import click

from entrypoints.cli import Context, main, operator_errors


@main.command("simulate")
@click.option("--resellers", type=click.IntRange(1, 50), default=2, show_default=True)
@click.option(
    "--accounts",
    type=click.IntRange(0, 100_000),
    default=10,
    show_default=True,
    help="Customers at the start, spread over the resellers.",
)
@click.option("--days", type=click.IntRange(1, 400), default=30, show_default=True)
@click.option("--start", "start_day", type=click.DateTime(["%Y-%m-%d"]), default="2026-11-20", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same traffic.")
@click.option(
    "--change-percent",
    type=click.IntRange(0, 100),
    default=30,
    show_default=True,
    help="Chance that an account changes something (or pays) on a day.",
)
@click.option(
    "--signup-percent",
    type=click.IntRange(0, 100),
    default=20,
    show_default=True,
    help="Chance per reseller per day that a customer signs up.",
)
@click.option(
    "--call-percent",
    type=click.IntRange(0, 100),
    default=30,
    show_default=True,
    help="Chance that an account places calls (CDRs in its monthly database) on a day.",
)
@click.option(
    "--close-percent",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="Chance per reseller per day that one of its customers closes its account.",
)
@click.option(
    "--clock-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The clock the simulator moves (give the same file to `kazbill serve --clock-file`).",
)
@click.option("--service-port", type=int, help="A running service's actor port: it crawls each simulated day.")
@click.option(
    "--seconds-per-day",
    type=click.FloatRange(0, 3600),
    default=0.0,
    show_default=True,
    help="Wall time a simulated day lasts at least (0: as fast as the service keeps up).",
)
@click.option(
    "--publish/--no-publish",
    default=False,
    show_default=True,
    help="Also publish what Kazoo publishes (doc notices on `configuration`, CHANNEL_DESTROY on "
    "`callevt`) on KAZBILL_AMQP_URL's broker.",
)
@click.option(
    "--history",
    "history_file",
    default="var/simulation-history.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where the accounts' true quantities day by day are written.",
)
@click.pass_obj
@operator_errors
def simulate(
    obj: Context,
    resellers: int,
    accounts: int,
    days: int,
    start_day: datetime,
    seed: int,
    change_percent: int,
    signup_percent: int,
    call_percent: int,
    close_percent: int,
    clock_file: str,
    service_port: int | None,
    seconds_per_day: float,
    publish: bool,
    history_file: str,
) -> None:
    """Produce a simulated cluster's traffic (reseller tree, churn, changes, payments) on a moved clock."""
    from pathlib import Path

    from bookkeeper.services.audit.audit_history import write_history
    from entrypoints.simulation.flavours import Scale
    from entrypoints.simulation.kazoo_bus import KazooBus
    from entrypoints.simulation.run import SimulationRun

    first = start_day.date()
    bus = KazooBus(obj.settings.amqp_url) if publish else None
    run = SimulationRun(
        obj.settings,
        clock_file,
        Scale(resellers, accounts, change_percent, signup_percent, seed, call_percent, close_percent),
        first,
        bus,
    )
    Path(history_file).parent.mkdir(parents=True, exist_ok=True)
    client = None
    if service_port:
        from actors.system import connect

        client = connect(service_port, timeout_s=600)
    started = time.monotonic()
    run.seed()
    click.echo(f"seeded {resellers} resellers and {accounts} customers (seed {seed})")
    with click.progressbar(
        range(days),
        label="Simulating",
        show_pos=True,
        item_show_func=lambda d: None if d is None else f"{first + timedelta(days=d)}",
    ) as bar:
        for offset in bar:
            day_started = time.monotonic()
            run.morning(offset, client)
            run.afternoon(offset)
            if client is not None:
                run.wait_followed()
            write_history(history_file, run.cluster.history)  # after each day: a killed run keeps its truth
            time.sleep(max(0.0, seconds_per_day - (time.monotonic() - day_started)))
    counts, elapsed = run.cluster.counts, time.monotonic() - started
    changes = sum(counts.changes.values())
    click.echo(
        f"{days} days in {elapsed:.1f} s: {counts.writes} document writes, {changes} changes, "
        f"{counts.signups} sign-ups, {counts.closes} closings, {counts.payments} payments, "
        f"{len(run.cluster.calls)} billable calls "
        f"({', '.join(f'{n} {what}' for what, n in sorted(counts.changes.items())) or 'none'})"
        + (f"; {bus.published} AMQP messages published" if bus else "")
    )
    click.echo(
        f"history of {len(run.cluster.history)} accounts in {history_file}; audit with: kazbill audit --all "
        f"--from {first} --to {first + timedelta(days=days - 1)} --history {history_file}"
    )
