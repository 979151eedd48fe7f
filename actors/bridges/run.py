"""The bridges as processes of their own (`kazbill bridge amqp|couchdb`), started by
`kazbill serve`. Each connects to the running actor system, follows its feed, and on SIGTERM
finishes the batch in hand (ack or checkpoint included) before it exits."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import socket
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from actors.bridges.amqp_announce import OutboxPublisher
from actors.bridges.amqp_bookkeeper import BookkeeperResponder
from actors.bridges.amqp_calls import CallBridge
from actors.bridges.amqp_config import ConfigBridge
from actors.bridges.couch_changes import ChangesFollower, known_accounts
from actors.bridges.poison import store_rejected
from actors.bridges.standing_answers import standing_answer
from actors.cluster import OwnedOnly, node_queue, ownership_for
from actors.hand_off_pump import HandOffPump
from actors.messages import DocumentChanged
from actors.system import HandOffUnavailable, connect, require_done
from bookkeeper import __version__
from bookkeeper.bootstrap import build_clock, build_store
from bookkeeper.config import Settings
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.ports import StoreError, StoreUnavailable

log = logging.getLogger("kazbill.bridge")
MAX_PAUSE_S = 30.0
NODE_QUEUE_EXPIRES_MS = 24 * 3600 * 1000  # a node away longer is taken over anyway
# Batches of each AMQP bridge handed off and not yet answered (actors/hand_off_pump.py): with one,
# the shards idle while the bridge collects the next; three keep two shards busy (bench.events).
BATCHES_IN_FLIGHT = 3
# The calls bridge keeps more: a shard rating a batch gets those that came meanwhile as one work
# (actors/work_merging.py), so what is in flight is what its next round rates. On CouchDB, 24,000
# calls over 50 accounts: 497-549 calls/s with three, 688-767 with six, 659 with ten.
CALL_BATCHES_IN_FLIGHT = 6


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Linux only: when the process that started this one dies, even by SIGKILL, the kernel
    sends `signum`, so no bridge outlives its service."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def run_changes_bridge(settings: Settings, admin_port: int, clock_file: str | None = None) -> None:
    stop = threading.Event()
    _stop_on_signals(stop)
    store = build_store(settings)
    client = _owned_only(connect(admin_port), settings, store)
    clock = build_clock(clock_file)
    follower = ChangesFollower(
        store,
        lambda account_ids: client.hand_off("reconcile", account_ids),
        hand_off_calls=client.hand_off_calls,
        now_gregorian=lambda: gregorian_of(clock.now()),
        node=settings.node,
        stopping=stop.is_set,
    )
    pause = 1.0
    log.info("following the store's changes")
    while not stop.is_set():
        try:
            follower.step()
            pause = 1.0
        except (HandOffUnavailable, StoreUnavailable) as error:
            log.warning("paused %.0fs: %s", pause, error)
            stop.wait(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
    store.close()
    log.info("changes bridge stopped: %s", follower.stats)


def run_amqp_bridge(settings: Settings, admin_port: int, clock_file: str | None = None) -> None:
    connected = HandOffPump(connect(admin_port))  # before any thread or event loop: Thespian may fork
    store = build_store(settings)
    client = _owned_only(connected, settings, store)
    clock = build_clock(clock_file)
    # A thread per batch in flight, for each bridge, and one for Kazoo's requests to the bookkeeper.
    executor = ThreadPoolExecutor(
        max_workers=BATCHES_IN_FLIGHT + CALL_BATCHES_IN_FLIGHT + 1, thread_name_prefix="handoff"
    )

    def now_gregorian() -> int:
        return gregorian_of(clock.now())

    async def hand_off(changes: Sequence[DocumentChanged]) -> None:
        done = await asyncio.get_running_loop().run_in_executor(executor, reconcile_changed, store, client, changes)
        if done is not None:
            require_done(done)

    def reject(rejected) -> None:
        store_rejected(store, rejected, now_gregorian())

    async def rate(calls: Sequence[FinishedCall]) -> None:
        require_done(await asyncio.get_running_loop().run_in_executor(executor, client.hand_off_calls, calls))

    async def reconcile_one(account_id: str):
        # Kazoo's request is answered by whichever node it reached, owner or not: the reply must
        # say the account was billed, and a second pass by its owner charges nothing again.
        return await asyncio.get_running_loop().run_in_executor(executor, connected.hand_off, "reconcile", [account_id])

    node = settings.node or f"kazbill@{socket.gethostname()}"
    queue = node_queue(settings)
    expires = NODE_QUEUE_EXPIRES_MS if settings.node else None
    bridge = ConfigBridge(
        settings.amqp_url,
        hand_off,
        reject,
        now_gregorian,
        queue_name=queue,
        own_node=node,
        queue_expires_ms=expires,
        in_flight=BATCHES_IN_FLIGHT,
    )
    calls = CallBridge(
        settings.amqp_url,
        rate,
        reject,
        now_gregorian,
        queue_name=f"{queue}.calls",
        queue_expires_ms=expires,
        in_flight=CALL_BATCHES_IN_FLIGHT,
    )
    standing_store = build_store(settings)  # read in the responder's own thread, never behind a batch
    responder = BookkeeperResponder(
        settings.amqp_url,
        reconcile_one,
        reject,
        node=node,
        app_version=__version__,
        queue_name=f"{settings.amqp_queue}.bookkeepers",
        read_standing=lambda account_id: standing_answer(standing_store, account_id),
    )

    publisher = OutboxPublisher(
        settings.amqp_url, build_store(settings), now_gregorian, node=node, app_version=__version__
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        pause = 1.0
        while not stop.is_set():
            try:
                log.info(
                    "consuming Kazoo's configuration and callevt exchanges at %s", settings.amqp_url.split("@")[-1]
                )
                await all_or_none(bridge.run(stop), calls.run(stop), responder.run(stop), publisher.run(stop))
            except (TimeoutError, OSError, ConnectionError) as error:  # broker down at start
                log.warning("broker unreachable, retrying in %.0fs: %s", pause, error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, MAX_PAUSE_S)

    try:
        asyncio.run(main())
    finally:
        executor.shutdown(wait=True)
        connected.close()
        store.close()
        standing_store.close()
        publisher.store.close()
    log.info("AMQP bridge stopped")


def reconcile_changed(store, client, changes: Sequence[DocumentChanged]):
    """The changed accounts handed to the shards; a `service` document's change only for an
    account Kazbill bills (see couch_changes.known_accounts)."""
    services = {change.account_id for change in changes if change.doc_type == "service"}
    try:
        known = set(known_accounts(store, sorted(services))) if services else set()
    except StoreError as error:  # the store's outage, not the changes' fault: they wait for it
        raise HandOffUnavailable(f"cannot tell which accounts Kazbill bills: {error}") from error
    account_ids = [
        change.account_id for change in changes if change.doc_type != "service" or change.account_id in known
    ]
    return client.hand_off("reconcile", account_ids) if account_ids else None


async def all_or_none(*consumers: Coroutine[Any, Any, None]) -> None:
    """Runs the consumers together until all have ended; when one fails, the others are
    cancelled and awaited before its error goes on. With `asyncio.gather` they kept running, and
    the retry after a broker outage started a second copy of each beside them."""
    tasks = [asyncio.create_task(consumer) for consumer in consumers]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # the first failure, if any
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _owned_only(client, settings: Settings, store):
    """In a cluster, only this node's accounts reach its shards (actors/cluster.py)."""
    ownership = ownership_for(settings, store)
    return client if ownership is None else OwnedOnly(client, ownership)


RUNNERS = {"amqp": run_amqp_bridge, "couchdb": run_changes_bridge}
