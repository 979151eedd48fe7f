"""A simulated month across a month end, billed by the real `kazbill serve`, through the faults an
operator meets: the whole service SIGKILLed with the day's changes unbilled, a shard and the
changes bridge SIGKILLed mid-work, every change delivered again from the first (duplicates), a
missed midnight caught up, the clock jumped back and forward. Afterwards the audit, recomputing
every charge from the simulator's true history, finds no difference, and no failure awaits a
person. The counts are printed."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest

from actors.bridges.couch_changes import CHECKPOINT_ID, UPDATES_CHECKPOINT_ID
from actors.messages import ServiceStatus, StatusRequest
from actors.system import connect
from bookkeeper.config import Settings
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.services.audit.audit_history import write_history
from entrypoints.simulation.cluster import Scale
from entrypoints.simulation.run import SimulationRun
from testkit.support.couch_servers import CLUSTER, cluster_available, fresh_server
from testkit.support.kazbill_service import KazbillService
from tests.reliability.support import audit_run, bridge_pids, described, failures, ledger_entries

# The month takes minutes on a CouchDB cluster (2 cores): the timeout only guards against a hang.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]
FIRST_DAY, DAYS = date(2026, 11, 20), 21  # 20 Nov - 10 Dec: a period closes and opens mid-run
SERVICE_KILLS, SHARD_KILLS, BRIDGE_KILLS = {3, 11, 18}, {5, 14}, {7, 16}
REPLAY_DAY, MISSED_MIDNIGHT, CLOCK_BACK_DAY = 9, 12, 15
TWIN_DAYS = range(19, 21)  # a second service on the same store and clock, as an operator starting one by mistake


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The month on the embedded store, and on a CouchDB cluster too when one is available.
    if "month_store" in metafunc.fixturenames and cluster_available(heavy=True):
        metafunc.parametrize("month_store", ["embedded", CLUSTER], indirect=True)


@pytest.fixture
def month_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """The settings and the service's environment for the store the month runs on."""
    if getattr(request, "param", "embedded") == CLUSTER:
        with fresh_server(CLUSTER) as url:
            yield dataclasses.replace(Settings(), store_url=url), {"KAZBILL_STORE_URL": url}
    else:
        settings = dataclasses.replace(Settings(), store_path=str(tmp_path / "kazbill.sqlite3"), store_url=None)
        yield settings, {"KAZBILL_STORE_PATH": settings.store_path}


class Faults:
    def __init__(self, tmp_path, store_env: dict[str, str], clock_file: str):
        self.tmp_path, self.clock_file = tmp_path, clock_file
        self.env = {**store_env, "KAZBILL_BRIDGES": "couchdb", "KAZBILL_SHARDS": "3"}
        self.services: list[KazbillService] = []
        self.kills = {"service": 0, "shard": 0, "bridge": 0}
        self.client = None
        self.twin: KazbillService | None = None
        self.twin_client = None

    def start(self) -> None:
        service = KazbillService(self.tmp_path, self.env, self.clock_file).start().wait_ready()
        self.services.append(service)
        self.client = connect(service.admin_port, timeout_s=300)

    @property
    def service(self) -> KazbillService:
        return self.services[-1]

    def start_twin(self) -> None:
        """Its own path to the same clock file, so that its processes are told from the first's."""
        twin_clock = self.tmp_path / "twin-clock"
        twin_clock.symlink_to(self.clock_file)
        self.twin = KazbillService(self.tmp_path, self.env, twin_clock).start().wait_ready()
        self.twin_client = connect(self.twin.admin_port, timeout_s=300)

    def stop_twin(self) -> None:
        assert self.twin is not None and self.twin.stop() == 0, self.twin.log()
        self.twin.wait_gone()

    def kill_service(self) -> None:
        self.service.kill()
        self.service.wait_gone()  # the actors' watchdog and the bridges' death signal clean up
        self.kills["service"] += 1
        self.start()

    def restart_after(self, restore: Callable[[], int]) -> int:
        """Stopped, `restore` run while nothing follows the store, started again: a follower that
        runs writes its place back after each step and would undo a restore made under it."""
        assert self.service.stop() == 0, self.service.log()
        self.service.wait_gone()
        restored = restore()
        self.start()
        return restored

    def kill_shard(self, rng: random.Random) -> None:
        status = self.client.system.ask(self.client.supervisor, StatusRequest(), 10)
        assert isinstance(status, ServiceStatus) and all(status.shard_pids), status
        os.kill(rng.choice(status.shard_pids), signal.SIGKILL)
        self.kills["shard"] += 1

    def kill_bridge(self) -> None:
        bridges = bridge_pids(self.clock_file, "couchdb")
        assert len(bridges) == 1, bridges
        os.kill(bridges[0], signal.SIGKILL)
        self.kills["bridge"] += 1

    def cleanup(self) -> None:
        """Every service's, even when an earlier one's leftovers would not go (named, raised last).
        Newest first: the services share one clock file, by which leftovers are found, so an older
        (killed) service waiting first would wait for the processes of the one still running."""
        errors = []
        for service in [*([self.twin] if self.twin else []), *reversed(self.services)]:
            try:
                service.cleanup()
            except AssertionError as error:
                errors.append(error)
        if errors:
            raise errors[0]


def test_a_simulated_month_through_kills_duplicates_and_clock_jumps_audits_clean(month_store, tmp_path, capsys):
    settings, store_env = month_store
    clock_file = str(tmp_path / "clock")
    run = SimulationRun(
        settings,
        clock_file,
        Scale(
            resellers=3,
            accounts=12,
            change_percent=40,
            signup_percent=25,
            seed=20261120,
            call_percent=40,
            close_percent=10,
        ),
        FIRST_DAY,
    )
    run.seed()
    rng, faults = random.Random(7), Faults(tmp_path, store_env, clock_file)
    replayed = replay_new_entries = 0
    try:
        faults.start()
        run.wait_followed()
        for offset in range(DAYS):
            if offset == TWIN_DAYS.start:
                faults.start_twin()
            if offset != MISSED_MIDNIGHT:  # the service was away over that midnight: the next crawl catches up
                run.morning(offset, faults.client)
            if offset in TWIN_DAYS:  # both crawl the day, both follow every change
                assert run.morning(offset, faults.twin_client) is not None
            if offset == CLOCK_BACK_DAY:  # the clock jumps back two days and forward again: nothing new
                before = ledger_entries(run.ports.store)
                run.morning(offset - 2, faults.client)
                run.morning(offset, faults.client)
                assert ledger_entries(run.ports.store) == before
            run.afternoon(offset)
            if offset in SERVICE_KILLS:
                faults.kill_service()  # the day's changes were written, not yet billed
            if offset in SHARD_KILLS:
                faults.kill_shard(rng)
            if offset in BRIDGE_KILLS:
                faults.kill_bridge()
            run.wait_followed()
            if offset == REPLAY_DAY:  # every change of every database delivered a second time
                before = ledger_entries(run.ports.store)
                replayed = faults.restart_after(lambda: _reset_checkpoints(run.ports.store))
                run.wait_followed()
                replay_new_entries = ledger_entries(run.ports.store) - before
            if offset == TWIN_DAYS[-1]:
                faults.stop_twin()
        run.morning(DAYS, faults.client)  # the last day's crawl is done by the next morning's at the latest
        assert faults.service.stop() == 0
    finally:
        faults.cleanup()

    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    write_history(tmp_path / "history.json", run.cluster.history)  # for `kazbill audit --history` by hand
    differences, unreadable = audit_run(run, FIRST_DAY, last_day)
    counts = run.cluster.counts
    with capsys.disabled():
        print(
            f"\nreliability: {DAYS} simulated days, {len(run.cluster.customers)} customers, "
            f"{counts.writes} document writes ({sum(counts.changes.values())} changes, "
            f"{counts.signups} sign-ups, {counts.closes} closings, "
            f"{counts.payments} payments, {len(run.cluster.calls)} billable calls as CDRs); "
            f"kills survived: {faults.kills['service']} service, "
            f"{faults.kills['shard']} shard, {faults.kills['bridge']} bridge, {len(TWIN_DAYS)} days with two services; "
            f"duplicates absorbed: every change "
            f"of {replayed} databases delivered again, {replay_new_entries} new entries; "
            f"differences found: {len(differences)}"
        )
    assert replayed > len(run.cluster.customers) and replay_new_entries == 0
    assert unreadable == [] and differences == [], "\n".join(map(repr, unreadable + differences))
    left = failures(run.ports.store)
    assert left == [], described(left)
    assert len(run.cluster.history) == len(run.cluster.customers) > 12 and counts.signups > 0 and counts.closes > 0


def _reset_checkpoints(store) -> int:
    """As an operator restoring the follower's checkpoints from an old backup would, the service
    stopped; the follower started next reads them."""
    store.put_local(SYSTEM_DB, UPDATES_CHECKPOINT_ID, {"seq": "0"})
    reset = 0
    for db in store.list_databases():
        if store.get_local(db, CHECKPOINT_ID) is not None:
            store.put_local(db, CHECKPOINT_ID, {"seq": "0"})
            reset += 1
    return reset
