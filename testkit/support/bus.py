"""Kazoo's messages on the machine's RabbitMQ, as the tests and the benchmarks send them: a
document's change on the `configuration` exchange, a channel's end on `callevt`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import aio_pika

from actors.bridges.amqp_calls import EXCHANGE as CALLEVT
from actors.bridges.amqp_config import EXCHANGE
from actors.bridges.kazoo_messages import encode_routing_key_segment
from actors.bridges.kazoo_replies import encode_doc_edited_notice
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, account_db

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
# When the calls of the call tests ended: 2 March 2026, 13:55 in Moscow (Gregorian seconds).
ENDED = int(datetime(2026, 3, 2, 13, 55, tzinfo=ZoneInfo("Europe/Moscow")).timestamp()) + GREGORIAN_UNIX_OFFSET


def change(action: str, account_id: str, doc_type: str, doc_id: str) -> tuple[str, bytes]:
    db = account_db(account_id).replace("/", "%2F")
    key, body = encode_doc_edited_notice(
        db, doc_type, doc_id, "1-abc", account_id, node="kazoo@test", app_version="4.3"
    )
    payload = json.loads(body)
    payload["Event-Name"] = action
    return key.replace("doc_edited", action, 1), json.dumps(payload).encode()


async def publish(messages: list[tuple[str, bytes]], exchange_name: str = EXCHANGE) -> None:
    """As Kazoo publishes: on its non-durable topic exchange (`configuration` unless named)."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC, durable=False)
        for key, body in messages:
            await exchange.publish(aio_pika.Message(body, content_type="application/json"), routing_key=key)


async def until_consuming(name: str, timeout_s: float = 60.0) -> None:
    """Until the named queue has a consumer: a bridge declares, binds, then consumes, so a test
    may publish (a fixed pause before publishing was a guess a loaded machine could outlast)."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                if queue.declaration_result.consumer_count > 0:
                    return
            except aio_pika.exceptions.ChannelClosed:
                pass  # not declared yet (a passive declaration of a missing queue closes the channel)
            finally:
                with contextlib.suppress(Exception):
                    await channel.close()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no consumer on {name} after {timeout_s:.0f}s")
            await asyncio.sleep(0.1)


async def queue_depth_then_delete(name: str) -> int:
    """What is left unacknowledged, then the test's queue goes (it is durable: it would stay)."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, passive=True)
        depth = queue.declaration_result.message_count
        await queue.delete(if_unused=False, if_empty=False)
        return depth


def channel_destroy(
    account: str, call_id: str, *, seconds: int = 61, leg: str = "carrier", number: str = "+74951234567"
) -> tuple[str, bytes]:
    """One channel's CHANNEL_DESTROY as ecallmgr publishes it: the carrier's leg names the
    resource stepswitch used; the phone's leg is authorised by a device."""
    ccv = {"Account-ID": account, "Authorizing-Type": "device"}
    if leg == "carrier":
        ccv = {"Account-ID": account, "Resource-ID": "carrier-1", "Global-Resource": "false"}
    body = {
        "Event-Category": "call_event",
        "Event-Name": "CHANNEL_DESTROY",
        "Call-ID": call_id,
        "Call-Direction": "outbound" if leg == "carrier" else "inbound",
        "Billing-Seconds": str(seconds),
        "Duration-Seconds": str(seconds + 7),
        "Callee-ID-Number": number,
        "Request": f"{number}@carrier.example",
        "Caller-ID-Number": "+74950000001",
        "Hangup-Cause": "NORMAL_CLEARING",
        "Timestamp": ENDED,
        "Custom-Channel-Vars": ccv,
        "App-Name": "ecallmgr",
        "Node": "ecallmgr@fs1.example",
    }
    return f"call.CHANNEL_DESTROY.{encode_routing_key_segment(call_id)}", json.dumps(body).encode()


async def publish_calls(messages: list[tuple[str, bytes]]) -> None:
    await publish(messages, CALLEVT)
