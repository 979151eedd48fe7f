"""`kazbill demo`: a month of a small reseller tree, billed by the real service at accelerated
time on a fresh embedded store, then replayed from the first change to show that nothing is
charged twice.

What runs is what production runs: the actor system (supervisor, shards, scheduler), the
CouchDB changes follower handing changed accounts to the shards, and the daily crawl at each
reseller's local midnight. Only time is different: a FileClock the demo moves a day at a time.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import click

from entrypoints.cli import Context, main, operator_errors


@main.command("demo")
@click.option("--days", type=click.IntRange(1, 62), default=30, show_default=True, help="Days to replay.")
@click.option(
    "--start",
    "start_day",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2026-11-01",
    show_default=True,
    help="The first day of the replay.",
)
@click.option(
    "--store-path",
    type=click.Path(dir_okay=False),
    default="var/demo.sqlite3",
    show_default=True,
    help="The demo's own embedded store; it is created afresh.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Afterwards, keep the API, the console and the payments page running on the demo's store (Ctrl-C stops them).",
)
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Where --serve listens.")
@click.pass_obj
@operator_errors
def demo(obj: Context, days: int, start_day: datetime, store_path: str, serve: bool, bind: str) -> None:
    """Seed a two-level reseller tree and bill a month of its changes through the running service."""
    from entrypoints.cli.demo_run import DemoRun

    first = start_day.date()
    for suffix in ("", "-wal", "-shm"):
        Path(store_path + suffix).unlink(missing_ok=True)
    Path(store_path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kazbill-demo-") as scratch:
        settings = dataclasses.replace(
            obj.settings, store_url=None, store_path=store_path, actor_admin_port=_free_port()
        )
        run = DemoRun(settings, os.path.join(scratch, "clock"), first)
        click.echo(
            f"Seeding {store_path}: a master, 2 resellers (RUB, EUR), 5 customers with users, devices, "
            "numbers and trunks"
        )
        run.seed()
        click.echo(
            f"Starting the actor system ({settings.shard_count} shards, port {settings.actor_admin_port}) "
            f"and replaying {first:%d %b %Y} to {first + timedelta(days=days - 1):%d %b %Y}"
        )
        with run.serving():
            with click.progressbar(
                range(days),
                label="Billing",
                show_pos=True,
                item_show_func=lambda d: None if d is None else f"{first + timedelta(days=d)}",
            ) as bar:
                for offset in bar:
                    run.live_day(offset)
            replay = run.replay_everything()
            documents_dir = Path(store_path).parent / "demo-documents"
            for old in documents_dir.glob("*.pdf"):
                old.unlink()
            documents, without = run.issue_documents(documents_dir)
        click.echo()
        for line in run.diary:
            click.echo(line)
        click.echo()
        click.echo(run.report())
        click.echo()
        click.echo(
            f"Replayed every change from the beginning ({replay.accounts} accounts handed to the shards "
            f"again, {replay.crawls} days crawled again): {replay.new_entries} new ledger entries."
        )
        click.echo()
        _echo_documents(documents, without, first + timedelta(days=days))
        click.echo()
        _echo_logins(store_path, bind)
        if replay.new_entries:
            raise click.ClickException("the replay charged something twice: this is a bug")
        last_moment = run.clock.now()
    if serve:
        _serve(obj, store_path, bind, last_moment)


def _echo_documents(documents, without: list[str], after) -> None:
    click.echo(
        f"Documents of each customer's last closed period, issued on {after:%d %b %Y} as a reseller asks for "
        "them (PUT .../onbills/generate; a period the crawl issued keeps its numbers), rendered, not emailed:"
    )
    for document in documents:
        issued = document.issued
        extra = " (Factur-X)" if document.e_invoice else ""
        click.echo(
            f"  {document.customer:<16}{issued.document_type:<9}{issued.number:<14}{document.total:>14}{extra:<11}"
            f"  {document.path or 'not rendered'}"
        )
    for line in without:
        click.echo(f"  {line}")


def _echo_logins(store_path: str, bind: str) -> None:
    from entrypoints.demo.world import CUSTOMERS, DEMO_PASSWORD, DEMO_USERNAME, RESELLERS

    base = f"http://{bind}"
    click.echo(f"Logins: user {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}, for every demo account's admin:")
    click.echo(f"  resellers' console  {base}/console  account " + " or ".join(repr(name) for name in RESELLERS))
    click.echo(
        f"  payments page       {base}/portal   account " + ", ".join(repr(customer.name) for customer in CUSTOMERS)
    )
    click.echo(
        f"  API                 PUT {base}/v2/user_auth "
        f'{{"data": {{"credentials": md5("{DEMO_USERNAME}:{DEMO_PASSWORD}"), "account_name": "Volna Telecom"}}}}'
    )
    click.echo(
        f"Serve them: ./scripts/run --serve (or KAZBILL_STORE_PATH={store_path} .venv/bin/kazbill api). "
        'More logins: kazbill users add "Volna Telecom" USERNAME (with KAZBILL_STORE_PATH set alike).'
    )


def _serve(obj: Context, store_path: str, bind: str, last_moment: datetime) -> None:
    """`kazbill api` on the demo's store, its clock stopped at the demo's last moment (so the
    console's current period is the demo's, not today's)."""
    from bookkeeper.adapters.clock import FileClock
    from entrypoints.cli.api import api

    clock_path = Path(store_path).with_name("demo-clock")
    FileClock(str(clock_path)).set(last_moment)
    os.environ.pop("KAZBILL_STORE_URL", None)
    os.environ["KAZBILL_STORE_PATH"] = os.path.abspath(store_path)
    click.echo(f"Serving the demo's store on http://{bind} (Ctrl-C stops it)")
    click.get_current_context().invoke(api, bind=bind, workers=None, clock_file=str(clock_path))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
