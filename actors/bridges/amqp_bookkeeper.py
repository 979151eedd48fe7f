"""Kazoo's bookkeeper protocol: answers `update_req` for Bookkeeper-Type "kazbill".

Kazoo 4.3 asks the account's bookkeeper to bring the subscription up to date after a billable
change and waits (20 s) for `update_resp` on its own queue (`Server-ID`, via the `targeted`
exchange) with the same Msg-ID. The reference Erlang bookkeeper never answered, so every such
call timed out in Kazoo. Here the request becomes a reconcile of the account through the shards,
and the answer says what happened. Requests for other bookkeepers are acknowledged and ignored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from actors.bridges.kazoo_messages import parse_bookkeeper_request
from actors.bridges.kazoo_replies import bookkeeper_update_response
from actors.messages import BookkeeperSyncRequested, HandOffDone, RejectedMessage
from actors.system import HandOffUnavailable

log = logging.getLogger("kazbill.bridge.bookkeeper")
EXCHANGE = "bookkeepers"
TARGETED_EXCHANGE = "targeted"
DEFAULT_QUEUE = "kazbill.bookkeepers"

Reconcile = Callable[[str], Awaitable[HandOffDone]]


def answer_for(request: BookkeeperSyncRequested,
               outcome: HandOffDone | Exception | None) -> tuple[str, str | None, str | None, dict | None]:
    """(status, reason, message, details) for an update request (outcome None: nothing was run)."""
    if request.dry_run or outcome is None:
        return "error", "dry_run_unsupported", "Kazbill does not quote dry runs over AMQP; use the API", None
    if isinstance(outcome, HandOffUnavailable):
        return "error", "unavailable", f"billing is unavailable right now: {outcome}", None
    if isinstance(outcome, Exception):
        return "fatal", "internal_error", str(outcome)[:200], None
    if outcome.failed:
        return "error", "billing_failed", outcome.failed[0][1][:200], None
    if outcome.not_done:
        return "error", "unavailable", "the store is unreachable; the account will be billed when it returns", None
    events = [name for name, _ in outcome.events]
    if "billing_failed" in events:
        return "error", "billing_failed", "the account's documents cannot be billed; see kazbill_failures", None
    return "success", None, None, {"events": events}


@dataclass
class BookkeeperResponder:
    url: str
    reconcile: Reconcile
    reject: Callable[[RejectedMessage], None]
    node: str
    app_version: str
    queue_name: str = DEFAULT_QUEUE

    async def run(self, stop) -> None:
        connection = await aio_pika.connect_robust(self.url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            requests = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)
            self._targeted = await channel.declare_exchange(TARGETED_EXCHANGE, aio_pika.ExchangeType.DIRECT,
                                                            durable=False)
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.bind(requests, routing_key="bookkeepers.*.*")
            tag = await queue.consume(self.handle)
            log.info("answering Kazoo's bookkeeper requests on %s", self.queue_name)
            try:
                await stop.wait()
            finally:
                await queue.cancel(tag)
        finally:
            await connection.close()

    async def _reconcile(self, account_id: str) -> HandOffDone | Exception:
        try:
            return await self.reconcile(account_id)
        except Exception as error:  # noqa: BLE001 - Kazoo is told, not left waiting
            return error

    async def handle(self, message: AbstractIncomingMessage) -> None:
        request = parse_bookkeeper_request(message.routing_key or "", message.body)
        if isinstance(request, RejectedMessage):
            self.reject(request)
        elif request is not None:
            outcome = None if request.dry_run else await self._reconcile(request.account_id)
            status, reason, text, details = answer_for(request, outcome)
            key, body = bookkeeper_update_response(request, status=status, reason=reason, message=text,
                                                   details=details, app_version=self.app_version, node=self.node)
            await self._targeted.publish(aio_pika.Message(body, content_type="application/json",
                                                          correlation_id=request.msg_id), routing_key=key)
            log.info("update_req for %s answered %s", request.account_id, status)
        await message.ack()
