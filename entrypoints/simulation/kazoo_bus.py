"""What a Kazoo cluster publishes on RabbitMQ as the simulated traffic happens: after every
document write, the `configuration` exchange's doc_created / doc_edited / doc_deleted notice
(kzs_publish's shape), and for every call to a carrier the channel's CHANNEL_DESTROY on
`callevt` (ecallmgr's). Kazoo publishes in addition to writing, never instead: the documents and
the CDRs are in the store either way.

A day's messages are collected and sent together by `flush`, through `deliveries`, which may
duplicate, drop or reorder them the way a broker under strain or a restarted Kazoo node does.
Kazoo declares both exchanges as non-durable topics and publishes transiently, and so does this.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from actors.bridges.kazoo_messages import encode_routing_key_segment
from bookkeeper.domain.kazoo_names import raw_account_id

CONFIGURATION, CALLEVT = "configuration", "callevt"
NODE = "kazoo_apps@kazoo1.sim.example"
SWITCH = "ecallmgr@fs1.sim.example"
CARRIER = "sim-carrier"  # the resource stepswitch routes the simulated calls through

Message = tuple[str, str, bytes]  # (exchange, routing key, body)


@dataclass
class KazooBus:
    amqp_url: str
    deliveries: Callable[[list[Message]], list[Message]] = lambda messages: messages
    pending: list[Message] = field(default_factory=list)
    published: int = 0  # messages sent, copies included

    def document_written(self, database: str, doc: Mapping[str, Any], rev: str | None) -> None:
        """The notice of one write; a first revision is a creation, a soft-deleted doc a deletion.
        The database goes in by Kazoo's encoded name (account%2F...), in the key and the body."""
        database = database.replace("/", "%2F")
        created = rev is not None and rev.startswith("1-")
        deleted = bool(doc.get("pvt_deleted"))
        action = "doc_deleted" if deleted else "doc_created" if created else "doc_edited"
        doc_type, doc_id = str(doc.get("pvt_type", "")), str(doc["_id"])
        body = {
            "Event-Category": "configuration",
            "Event-Name": action,
            "App-Name": "crossbar",
            "App-Version": "4.3.0",
            "Node": NODE,
            "Msg-ID": uuid.uuid4().hex,
            "ID": doc_id,
            "Type": doc_type,
            "Database": database,
            "Is-Soft-Deleted": deleted,
            "Origin-Cache": "crossbar",
        }
        if rev:
            body["Rev"] = rev
        if doc.get("pvt_account_id"):
            body["Account-ID"] = raw_account_id(str(doc["pvt_account_id"]))
        self.pending.append(
            (CONFIGURATION, f"{action}.{database}.{doc_type}.{encode_routing_key_segment(doc_id)}", _dump(body))
        )

    def call_ended(
        self, *, account_id: str, call_id: str, number: str, caller: str, billing_seconds: int, ended_gregorian: int
    ) -> None:
        """The carrier leg's CHANNEL_DESTROY: the leg that names the resource is the one billed."""
        body = {
            "Event-Category": "call_event",
            "Event-Name": "CHANNEL_DESTROY",
            "App-Name": "ecallmgr",
            "App-Version": "4.3.0",
            "Node": SWITCH,
            "Msg-ID": uuid.uuid4().hex,
            "Call-ID": call_id,
            "Call-Direction": "outbound",
            "Billing-Seconds": str(billing_seconds),
            "Duration-Seconds": str(billing_seconds + 6),
            "Callee-ID-Number": number,
            "Request": f"{number}@sim.example",
            "Caller-ID-Number": caller,
            "Timestamp": ended_gregorian,
            "Hangup-Cause": "NORMAL_CLEARING",
            "Custom-Channel-Vars": {"Account-ID": account_id, "Resource-ID": CARRIER, "Global-Resource": "false"},
        }
        self.pending.append((CALLEVT, f"call.CHANNEL_DESTROY.{encode_routing_key_segment(call_id)}", _dump(body)))

    def flush(self) -> int:
        """Publish what was collected (through `deliveries`); returns how many were sent."""
        messages, self.pending = self.deliveries(self.pending), []
        if messages:
            asyncio.run(_publish(self.amqp_url, messages))
        self.published += len(messages)
        return len(messages)


async def _publish(url: str, messages: list[Message]) -> None:
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchanges = {
            name: await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=False)
            for name in {exchange for exchange, _, _ in messages}
        }
        for exchange, key, body in messages:
            await exchanges[exchange].publish(aio_pika.Message(body, content_type="application/json"), routing_key=key)


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
