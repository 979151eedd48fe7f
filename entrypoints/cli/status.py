"""`kazbill status`: what an operator looks at first. The service (is the actor system up, its
shards, restarts, batches in flight), the feeds (AMQP queue depths, databases the changes
follower has yet to catch up with), the last day crawled per reseller, and what awaits a person
(failures, notices not sent, announcements not published)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from entrypoints.cli import Context, main, operator_errors


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
@operator_errors
def status(obj: Context, as_json: bool) -> None:
    """Show lag per bridge, queue depths, the last crawl per reseller and failures awaiting attention."""
    from actors.cluster import node_queue
    from bookkeeper.bootstrap import build_store
    from bookkeeper.services.operations.status import LAG_CAP, checkpoint_of, followed, store_status

    settings = obj.settings
    store = build_store(settings)
    try:
        report: dict[str, Any] = {
            "store": store_status(
                store,
                checkpoint_id=checkpoint_of(settings.node),  # this node's
                followed=followed,
            ).as_json()
        }
    finally:
        store.close()
    report["service"] = _service(settings.actor_admin_port)
    queue = node_queue(settings)
    report["amqp"] = asyncio.run(
        _queue_depths(settings.amqp_url, [queue, f"{settings.amqp_queue}.bookkeepers", f"{queue}.calls"])
    )
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    for line in _lines(report, LAG_CAP):
        click.echo(line)


def _service(admin_port: int) -> dict[str, Any]:
    from actors.hang_watch import HUNG
    from actors.messages import ServiceStatus, StatusRequest
    from actors.system import admin_listening, connect

    if not admin_listening(admin_port):
        return {"running": False, "admin_port": admin_port}
    client = connect(admin_port, timeout_s=10)  # never shut this system down: it is the service's
    answer = client.system.ask(client.supervisor, StatusRequest(), 10)
    if not isinstance(answer, ServiceStatus):
        return {"running": True, "admin_port": admin_port, "answered": False}
    return {
        "running": True,
        "admin_port": admin_port,
        "answered": True,
        "shard_pids": list(answer.shard_pids),
        "restarts": answer.restarts,
        "shards_killed_hung": dict(answer.counts).get(HUNG, 0),  # (hang_watch.py)
        "batches_in_flight": answer.batches_in_flight,
        "giving_up": answer.giving_up,
        "mailer": answer.mailer is not None,
    }


async def _queue_depths(url: str, queues: list[str]) -> dict[str, Any]:
    import aio_pika

    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), 10)
    except Exception as error:  # noqa: BLE001 - an unreachable broker is a finding, not a crash
        return {"reachable": False, "reason": str(error) or type(error).__name__}
    depths: dict[str, Any] = {}
    async with connection:
        for name in queues:
            channel = await connection.channel()  # a passive declare of a missing queue closes its channel
            try:
                queue = await channel.declare_queue(name, durable=True, passive=True)
                depths[name] = queue.declaration_result.message_count
            except aio_pika.exceptions.ChannelClosed:
                depths[name] = None  # not declared: no AMQP bridge has run against this broker
    return {"reachable": True, "queues": depths}


def _lines(report: dict[str, Any], cap: int) -> list[str]:
    store, service, amqp = report["store"], report["service"], report["amqp"]
    lines = [f"service: {'running' if service['running'] else 'not running'} (actor port {service['admin_port']})"]
    if service.get("answered"):
        lines.append(
            f"  shards {service['shard_pids']}, restarts {service['restarts']}"
            + (f" ({service['shards_killed_hung']} killed hung)" if service.get("shards_killed_hung") else "")
            + f", batches in flight {service['batches_in_flight']}"
            + (", GIVING UP" if service["giving_up"] else "")
        )
    if amqp["reachable"]:
        for name, depth in amqp["queues"].items():
            lines.append(f"amqp queue {name}: " + ("not declared" if depth is None else f"{depth} waiting"))
    else:
        lines.append(f"amqp: unreachable ({amqp['reason']})")
    behind = store["databases_behind"]
    lines.append(
        f"changes follower: {store['databases_followed']} databases, {len(behind)} behind, "
        f"{store['databases_never_followed']} never followed"
    )
    for db, pending in sorted(behind.items(), key=lambda item: -item[1])[:10]:
        lines.append(f"  {db}: {pending}{'+' if pending >= cap else ''} changes to follow")
    if store["nodes"]:
        lines.append(
            "cluster: " + ", ".join(f"{node} (lease {left:g}s left)" for node, left in sorted(store["nodes"].items()))
        )
    for reseller, crawl in sorted(store["last_crawl"].items(), key=lambda item: item[1]["name"]):
        lines.append(f"last crawl of reseller {crawl['name'] or '?'} ({reseller}): {crawl['day']}")
    failures = sum(store["failures"].values())
    lines.append(
        f"failures awaiting attention: {failures}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(store["failures"].items())) + ")" if failures else "")
    )
    lines.append("notices: " + (", ".join(f"{k} {v}" for k, v in sorted(store["notices"].items())) or "none"))
    lines.append("documents: " + (", ".join(f"{k} {v}" for k, v in sorted(store["documents"].items())) or "none"))
    lines.append(
        "payment notifications: "
        + (", ".join(f"{k} {v}" for k, v in sorted(store.get("payment_hooks", {}).items())) or "none")
    )
    lines.append(f"announcements to Kazoo not yet published: {store['announcements_pending']}")
    return lines
