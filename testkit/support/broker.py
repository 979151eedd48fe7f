"""The machine's RabbitMQ, driven the way an operator would: its application stopped and started
(every connection drops, transient messages are gone), and the test's queues read by
`rabbitmqctl`, which alone sees the messages a consumer holds unacknowledged."""

from __future__ import annotations

import asyncio
import subprocess
import time


def rabbitmq_app(action: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", action], check=True, capture_output=True, timeout=120)


def broker_is_up() -> bool:
    return subprocess.run(["rabbitmqctl", "-q", "await_startup"], capture_output=True, timeout=120).returncode == 0


class ListingFailed(Exception):
    """rabbitmqctl could not list the queues this time (with what it said)."""


def queue_counts(names: list[str], *columns: str) -> dict[str, tuple[int, ...]]:
    """The named columns (messages_ready, consumers, ...) of each named queue that exists."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", *columns], capture_output=True, text=True, timeout=60
    )
    if listed.returncode != 0:
        raise ListingFailed(
            f"rabbitmqctl list_queues exited {listed.returncode}: {(listed.stderr or listed.stdout).strip()[-500:]}"
        )
    counts = {}
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 1 + len(columns) and parts[0] in names and all(p.isdigit() for p in parts[1:]):
            counts[parts[0]] = tuple(int(p) for p in parts[1:])
    return counts


def _counts_or_failure(names: list[str], *columns: str) -> tuple[dict[str, tuple[int, ...]], str]:
    # The broker is the machine's, shared with whatever else runs there (another suite stopping
    # its application, queues coming and going): one failed listing is read as "not yet", and
    # only a wait that never ends names it.
    try:
        return queue_counts(names, *columns), ""
    except ListingFailed as failure:
        return {}, str(failure)


def wait_consumed(names: list[str], timeout_s: float = 120.0) -> None:
    """Until every named queue has its consumer again (after a broker restart the bridge's robust
    connection re-declares, re-binds and consumes by itself)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts, failure = _counts_or_failure(names, "consumers")
        if len(counts) == len(names) and all(c[0] > 0 for c in counts.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"queues without a consumer after {timeout_s:.0f}s: {counts} {failure}")
        time.sleep(0.5)


def wait_drained(names: list[str], timeout_s: float = 120.0) -> None:
    """Until every named queue holds nothing, neither waiting nor in a consumer's hands (acked
    means handed off and billed), twice in a row: a bridge between two batches reads as drained
    for an instant only if nothing is left to fetch."""
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < 2:
        counts, failure = _counts_or_failure(names, "messages_ready", "messages_unacknowledged")
        quiet = quiet + 1 if len(counts) == len(names) and not any(sum(c) for c in counts.values()) else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"queues not drained after {timeout_s:.0f}s: {counts} {failure}")
        time.sleep(0.3)


async def drop_every_connection(reason: str) -> None:
    """The broker closes every client connection at once (`rabbitmqctl close_all_connections`),
    as a broker restart or a network blip does; robust clients must reconnect by themselves."""
    closed = await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "-q", "close_all_connections", reason],
        capture_output=True,
        timeout=60,
    )
    assert closed.returncode == 0, closed.stderr
