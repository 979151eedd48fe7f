"""`kazbill failures`: what awaits a person in kazbill_failures, and the replay of the work the
shards failed for good (bookkeeper/services/operations/failure_replay.py) on the running service.
A record whose work is done is deleted (the command prints it first); one that fails again or
meets the store away stays, with what the shards answered printed."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from entrypoints.cli import Context, main, operator_errors


@main.group("failures")
def failures() -> None:
    """What awaits a person in kazbill_failures, and replaying the shards' failed work."""


@failures.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_obj
@operator_errors
def list_failures(obj: Context, limit: int) -> None:
    """The newest failures: id, when, source and reason, accounts, and whether `replay` takes it."""
    from bookkeeper.bootstrap import build_store
    from bookkeeper.ports import DatabaseNotFound
    from bookkeeper.services.operations.failure_replay import NotReplayable, replay_work

    store = build_store(obj.settings)
    try:
        records = newest_failures(store, limit)
    except DatabaseNotFound:
        records = []
    finally:
        store.close()
    for record in records:
        try:
            work = replay_work(record)
            replayable = f"replayable: {work.kind} of {len(work.account_ids)}" + (
                f" for {work.day}" if work.day else ""
            )
        except NotReplayable:
            replayable = "for a person"
        click.echo(
            f"{record['_id']}  {_when(record.get('pvt_created'))}  {record.get('source')}/{record.get('reason_code')}"
            f"  {record.get('account_id') or '-'}  {replayable}\n    {str(record.get('reason'))[:200]}"
        )


def newest_failures(store: Any, limit: int) -> list[dict[str, Any]]:
    """The `limit` newest records, read from the view by creation: the database may hold many.
    A database made before its views were installed (by a failure recorded before `kazbill
    store init`) is read whole instead."""
    from bookkeeper.ports import NotFound, ViewQuery
    from bookkeeper.services.setup.failures import FAILURES_DB

    try:
        query = ViewQuery(descending=True, limit=limit, include_docs=True)
        return [
            row.doc for row in store.query_view(FAILURES_DB, "kazbill_failures", "by_created", query).rows if row.doc
        ]
    except NotFound:
        rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
        failures = [row.doc for row in rows if row.doc and row.doc.get("pvt_type") == "failure"]
        return sorted(failures, key=lambda doc: doc.get("pvt_created") or 0, reverse=True)[:limit]


@failures.command("replay")
@click.argument("failure_ids", nargs=-1, required=True)
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True)
@click.option(
    "--force",
    is_flag=True,
    help="Also work a shard died on twice: it may kill a shard twice more, two restarts of the budget each.",
)
@click.pass_obj
@operator_errors
def replay(obj: Context, failure_ids: tuple[str, ...], timeout: float, force: bool) -> None:
    """Hand each failure's work to the running service's shards again; delete the record once done."""
    from actors.hand_off import HandOffUnavailable
    from actors.system import admin_listening, connect
    from bookkeeper.bootstrap import build_store
    from bookkeeper.ports import NotFound
    from bookkeeper.services.operations.failure_replay import NotReplayable, kills_shards, replay_work
    from bookkeeper.services.setup.failures import FAILURES_DB

    settings = obj.settings
    if not admin_listening(settings.actor_admin_port):
        raise click.ClickException(
            f"no service answers on actor port {settings.actor_admin_port}: start `kazbill serve`"
        )
    client = connect(settings.actor_admin_port, timeout_s=timeout)  # never shut down: it is the service's
    store = build_store(settings)
    left = 0
    try:
        for failure_id in failure_ids:
            try:
                record = store.get(FAILURES_DB, failure_id)
                work = replay_work(record)
                if kills_shards(record) and not force:
                    raise NotReplayable(
                        "a shard died twice on this work: replayed, it may kill shards and spend the restart "
                        "budget (`serve` gives up past it); fix the cause, then replay it alone with --force"
                    )
            except (NotFound, NotReplayable) as error:
                click.echo(f"{failure_id}: not replayed: {error}", err=True)
                left += 1
                continue
            try:
                done = (
                    client.hand_off_calls(work.calls)
                    if work.kind == "rate"
                    else client.hand_off(work.kind, work.account_ids, day=work.day)
                )
            except HandOffUnavailable as error:  # a timeout among them: kept, to be replayed again
                click.echo(f"{failure_id}: {work.kind} not answered; kept: {error}", err=True)
                left += 1
                continue
            if done.failed or done.not_done:
                click.echo(
                    f"{failure_id}: {work.kind} not done; kept. Failed: {json.dumps(done.failed)}; "
                    f"handed back (the store away): {list(done.not_done)}",
                    err=True,
                )
                left += 1
                continue
            store.delete(FAILURES_DB, failure_id, record["_rev"])
            charged = sum(1 for name, _ in done.events if name in ("charged", "call_charged"))
            count, noun = (len(work.calls), "call") if work.kind == "rate" else (len(done.done), "account")
            what = f"{count} {noun}" + ("s" if count != 1 else "")
            click.echo(f"{failure_id}: {work.kind} of {what} done, {charged} charged; record deleted")
    finally:
        store.close()
    if left:
        sys.exit(1)


def _when(gregorian: object) -> str:
    from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET

    if not isinstance(gregorian, int):
        return "-"
    return datetime.fromtimestamp(gregorian - GREGORIAN_UNIX_OFFSET, UTC).strftime("%Y-%m-%d %H:%M:%S")
