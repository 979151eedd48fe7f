"""Kazoo's bookkeeper protocol: answers `update_req` and `standing_req` for Bookkeeper-Type "kazbill".

Kazoo 4.3 asks the account's bookkeeper to bring the subscription up to date after a billable
change and waits (20 s) for `update_resp` on its own queue (`Server-ID`, via the `targeted`
exchange) with the same Msg-ID. The reference Erlang bookkeeper never answered, so every such
call timed out in Kazoo. Here the request becomes a reconcile of the account through the shards,
and the answer says what happened. Requests for other bookkeepers are acknowledged and ignored.

With `services.enforce_good_standing` on, Kazoo also asks before every billable change whether the
account is in good standing, waits 2 s, and without an answer refuses the change with 402
(kz_services_standing.erl:141-147,184-190,212-232). Those requests have a consumer of their own
that answers from the stored standing (standing_answers) in a thread of its own, so that no
billing pass in the way can make one late. Their queue is shared by the nodes but neither durable
nor kept: a request nobody answered within 2 s is worth nothing to anyone (Kazoo gave up on it),
so it expires rather than being answered late, and the queue goes with its last consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from actors.bridges.amqp_settling import cancel_consumer
from actors.bridges.bookkeeper_messages import (
    STANDING_KEY,
    UPDATE_KEY,
    StandingRequested,
    parse_bookkeeper_request,
    parse_standing_request,
)
from actors.bridges.kazoo_replies import bookkeeper_standing_response, bookkeeper_update_response
from actors.bridges.standing_answers import StandingAnswer
from actors.messages import BookkeeperSyncRequested, HandOffDone, RejectedMessage
from actors.system import HandOffUnavailable

log = logging.getLogger("kazbill.bridge.bookkeeper")
EXCHANGE = "bookkeepers"
TARGETED_EXCHANGE = "targeted"
DEFAULT_QUEUE = "kazbill.bookkeepers"

LEGACY_BINDING = "bookkeepers.*.*"  # what the update queue was bound to before standing had its own
STANDING_DEADLINE_MS = 2000  # kz_services_standing.erl:231

Reconcile = Callable[[str], Awaitable[HandOffDone]]
ReadStanding = Callable[[str], StandingAnswer]  # blocking: reads the store


def answer_for(
    request: BookkeeperSyncRequested, outcome: HandOffDone | Exception | None
) -> tuple[str, str | None, str | None, dict | None]:
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
    read_standing: ReadStanding | None = None  # None: standing requests are left to another bookkeeper
    # Of Kazoo's 2 s, what the store read may take; the rest is the way back to Kazoo.
    standing_budget_s: float = 1.5

    async def run(self, stop) -> None:
        connection = await aio_pika.connect_robust(self.url)
        self._standing_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="standing")
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            requests = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=False)
            self._targeted = await channel.declare_exchange(
                TARGETED_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=False
            )
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.bind(requests, routing_key=UPDATE_KEY)
            await queue.unbind(requests, routing_key=LEGACY_BINDING)  # or standing requests would come here too
            consumers = [(queue, await queue.consume(self.handle))]
            if self.read_standing is not None:
                standing_channel = await connection.channel()
                await standing_channel.set_qos(prefetch_count=20)
                standing = await standing_channel.declare_queue(
                    f"{self.queue_name}.standing",
                    durable=False,
                    auto_delete=True,
                    arguments={"x-message-ttl": STANDING_DEADLINE_MS},
                )
                await standing.bind(EXCHANGE, routing_key=STANDING_KEY)
                consumers.append((standing, await standing.consume(self.handle_standing)))
            log.info("answering Kazoo's bookkeeper requests on %s", self.queue_name)
            try:
                await stop.wait()
            finally:
                for consumed, tag in consumers:
                    await cancel_consumer(consumed, tag)  # bounded: a reconnecting channel waits
        finally:
            await connection.close()
            self._standing_thread.shutdown(wait=False)

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
            key, body = bookkeeper_update_response(
                request,
                status=status,
                reason=reason,
                message=text,
                details=details,
                app_version=self.app_version,
                node=self.node,
            )
            await self._targeted.publish(
                aio_pika.Message(body, content_type="application/json", correlation_id=request.msg_id), routing_key=key
            )
            log.info("update_req for %s answered %s", request.account_id, status)
        await message.ack()

    async def _standing(self, request: StandingRequested) -> StandingAnswer:
        read_standing = self.read_standing
        assert read_standing is not None  # standing requests are consumed only when there is a reader
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._standing_thread, read_standing, request.account_id), self.standing_budget_s
            )
        except TimeoutError:
            return StandingAnswer("error", "unavailable", "Temporary billing error, please try again later.")
        except Exception as error:  # noqa: BLE001 - Kazoo is told, not left waiting
            log.warning("standing of %s unreadable: %s", request.account_id, error)
            return StandingAnswer("error", "unavailable", "Temporary billing error, please try again later.")

    async def handle_standing(self, message: AbstractIncomingMessage) -> None:
        request = parse_standing_request(message.routing_key or "", message.body)
        if isinstance(request, RejectedMessage):
            self.reject(request)
        elif request is not None:
            answer = await self._standing(request)
            key, body = bookkeeper_standing_response(
                request,
                status=answer.status,
                reason=answer.reason,
                message=answer.message,
                details=answer.details,
                app_version=self.app_version,
                node=self.node,
            )
            await self._targeted.publish(
                aio_pika.Message(body, content_type="application/json", correlation_id=request.msg_id), routing_key=key
            )
            log.info("standing_req for %s answered %s", request.account_id, answer.status)
        await message.ack()
