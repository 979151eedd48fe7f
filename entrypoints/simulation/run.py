"""A simulated cluster's days against a running `kazbill serve`: the simulator owns the clock
(a FileClock both share), moves it to each day's early morning (every reseller's day has begun)
and asks the service to crawl, then to the afternoon for the day's traffic, and waits until
the service has followed every change before the next day begins.

Without a service the traffic is only written (and the history kept): a service started later
with the same clock file catches up like after an outage.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from bookkeeper.adapters.clock import FileClock
from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.config import Settings
from entrypoints.simulation.cluster import SimulatedCluster, utc
from entrypoints.simulation.flavours import Scale
from entrypoints.simulation.kazoo_bus import KazooBus

CRAWL_HOUR_UTC = 6  # Moscow 09:00, Berlin 07:00, New York 01:00 (02:00 in summer): every day has begun
TRAFFIC_HOUR_UTC = 15  # the same local day everywhere the flavours live


class NotFollowed(RuntimeError):
    """The service did not follow the day's changes in time (the figures would be meaningless)."""


class SimulationRun:
    def __init__(self, settings: Settings, clock_file: str, scale: Scale, first_day: date, bus: KazooBus | None = None):
        self.settings, self.first_day = settings, first_day
        self.clock = FileClock(clock_file)
        self.clock.set(utc(first_day, CRAWL_HOUR_UTC))
        self.ports = build_billing_ports(settings, clock_file)
        self.cluster = SimulatedCluster(self.ports, list(self.ports.design_docs), scale)
        self.cluster.bus = bus

    def seed(self) -> None:
        self.cluster.seed(utc(self.first_day, CRAWL_HOUR_UTC - 1))

    def morning(self, offset: int, client=None) -> tuple[str, ...]:
        """The day's crawl, when a service is there to do it (returns the days it crawled)."""
        self.clock.set(utc(self.first_day + timedelta(days=offset), CRAWL_HOUR_UTC))
        if client is None:
            return ()
        return tuple(client.crawl_now().days_crawled)

    def afternoon(self, offset: int) -> list[str]:
        now = utc(self.first_day + timedelta(days=offset), TRAFFIC_HOUR_UTC)
        self.clock.set(now)
        happened = self.cluster.live_day(now)
        if self.cluster.bus is not None:
            self.cluster.bus.flush()  # the seeding's notices go out with the first day's
        return happened

    def wait_followed(self, timeout_s: float = 120.0) -> None:
        """Until the changes follower has handed every change to the shards (its checkpoints
        move only once the shards have billed them). A hang guard, not a timing: it gives up
        after `timeout_s` without progress (a replay of every change on a 3-node cluster takes
        longer than that as a whole, and moves all along)."""
        from actors.bridges.couch_changes import CHECKPOINT_ID, followed
        from bookkeeper.services.operations.status import store_status

        deadline, last = time.monotonic() + timeout_s, None
        while True:
            status = store_status(self.ports.store, checkpoint_id=CHECKPOINT_ID, followed=followed)
            if not status.databases_behind and not status.databases_never_followed:
                return
            # Progress: a database followed further (its count is capped, so each is compared).
            if (
                last is None
                or status.databases_never_followed < last.databases_never_followed
                or any(status.databases_behind.get(db, 0) < count for db, count in last.databases_behind.items())
            ):
                deadline = time.monotonic() + timeout_s
            last = status
            if time.monotonic() > deadline:
                raise NotFollowed(
                    f"no progress for {timeout_s:.0f}s: {len(status.databases_behind)} databases are "
                    f"behind, {status.databases_never_followed} never followed"
                )
            time.sleep(0.5)  # each look reads every database's checkpoint and feed
