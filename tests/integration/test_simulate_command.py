"""`kazbill simulate` and `kazbill audit --history` from the command line, without a service: the
traffic is written and its truth recorded, and the audit, reading that truth, names the charges
no one has made yet (a service started later catches up; tests/reliability does that part)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from entrypoints.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def simulated(tmp_path):
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": ""}
    history = tmp_path / "history.json"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--resellers",
            "2",
            "--accounts",
            "4",
            "--days",
            "3",
            "--seed",
            "5",
            "--clock-file",
            str(tmp_path / "clock"),
            "--history",
            str(history),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return env, history, result.output


def test_simulate_writes_the_traffic_and_its_history(simulated):
    _, history, output = simulated
    assert "seeded 2 resellers and 4 customers (seed 5)" in output and "3 days in" in output
    accounts = json.loads(history.read_text())["accounts"]
    assert len(accounts) >= 4 and all(days[0][0] >= "2026-11-20" for days in accounts.values())
    assert f"--history {history}" in output


def test_the_audit_reads_the_history_and_names_the_charges_not_made(simulated):
    env, history, _ = simulated
    result = CliRunner().invoke(
        main,
        ["audit", "--all", "--from", "2026-11-20", "--to", "2026-11-22", "--history", str(history), "--json"],
        env=env,
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    kinds = {d["kind"] for finding in report["findings"] for d in finding["differences"]}
    # No service ran: only the payments' own passes billed (a change is charged from the day a
    # payment's pass first saw it, hence "amount"); no posting is missing or unexplained.
    assert "missing" in kinds and kinds <= {"missing", "amount"}
    assert report["assumptions"][:1] == [
        f"the quantities of the {len(json.loads(history.read_text())['accounts'])} "
        f"accounts in {history} are taken from it"
    ]


def test_a_bad_history_file_exits_2_naming_the_field(simulated, tmp_path):
    env, _, _ = simulated
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "kazbill-history/1", "accounts": {"not-an-id": []}}))
    result = CliRunner().invoke(
        main, ["audit", "--all", "--from", "2026-11-20", "--to", "2026-11-22", "--history", str(bad)], env=env
    )
    assert result.exit_code == 2 and "accounts.not-an-id" in result.output


def test_publish_sends_kazoos_notices_and_call_events_on_the_broker(tmp_path):
    """Bound like Kazbill's bridges, a queue receives the documents' notices and the calls'
    CHANNEL_DESTROY; the CLI reports how many it published."""
    import asyncio
    import uuid

    import aio_pika

    from tests.integration.test_amqp_config_bridge import AMQP_URL

    async def bound_queue(name: str):
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        queue = await channel.declare_queue(name, auto_delete=False)
        for exchange, key in (("configuration", "*.*.device.*"), ("callevt", "call.CHANNEL_DESTROY.*")):
            declared = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=False)
            await queue.bind(declared, key)
        await connection.close()

    async def drain(name: str) -> list[tuple[str, dict]]:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(name, passive=True)
            received = []
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                received.append((message.routing_key, json.loads(message.body)))
            await queue.delete(if_unused=False, if_empty=False)
            return received

    name = f"kazbill.test.sim.{uuid.uuid4().hex}"
    asyncio.run(bound_queue(name))
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": "", "KAZBILL_AMQP_URL": AMQP_URL}
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--resellers",
            "1",
            "--accounts",
            "3",
            "--days",
            "2",
            "--call-percent",
            "100",
            "--publish",
            "--clock-file",
            str(tmp_path / "clock"),
            "--history",
            str(tmp_path / "history.json"),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    received = asyncio.run(drain(name))
    devices = [body for key, body in received if key.startswith("doc_")]
    calls = [body for key, body in received if key.startswith("call.")]
    assert devices, (result.output, received[:3])
    assert all(body["Type"] == "device" and body["Event-Category"] == "configuration" for body in devices)
    assert calls and all(body["Event-Name"] == "CHANNEL_DESTROY" for body in calls)
    assert "AMQP messages published" in result.output
