"""The actor tree on multiprocTCPBase, as `kazbill serve` runs it: one process per actor, an admin
port of the test's own, a shard killed with SIGKILL and replaced, and no process left after."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actors.messages import ServiceStatus, StartService, StatusRequest
from actors.routing import shard_of
from actors.system import running_service
from bookkeeper.adapters.clock import FileClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.config import Settings
from testkit.fixtures.billing_world import World
from testkit.support.kazbill_service import free_port, wait_for
from tests.integration.test_billing_worked_examples import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

pytestmark = pytest.mark.integration
MSK = ZoneInfo("Europe/Moscow")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_shard_killed_with_sigkill_is_replaced_and_billing_goes_on(tmp_path):
    store = EmbeddedStore(tmp_path / "kazbill.sqlite3")
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=OFFICE_PLAN)
    customers = [
        world.customer(
            f"C{n}", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS, devices=2
        )
        for n in range(6)
    ]
    clock = FileClock(str(tmp_path / "clock"))
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=MSK))
    config = StartService(
        Settings(store_path=str(tmp_path / "kazbill.sqlite3")),
        shard_count=2,
        restart_intensity=3,
        restart_period_s=60,
        serve_pid=os.getpid(),
        clock_file=clock.path,
        scheduler_interval_s=None,
    )
    with running_service(config, admin_port=free_port()) as service:
        status = wait_for(lambda: _status(service, ready=True), 30, "both shards ready")
        victim = shard_of(customers[0], 2)
        os.kill(status.shard_pids[victim], signal.SIGKILL)
        replaced = wait_for(lambda: _status(service, ready=True, restarts=1), 30, "the shard's successor")
        assert replaced.shard_pids[victim] != status.shard_pids[victim] and not replaced.giving_up
        done = service.client(timeout_s=60).hand_off("reconcile", customers)
        assert sorted(done.done) == sorted(customers) and not done.failed
        pids = [pid for pid in replaced.shard_pids if pid]
    wait_for(lambda: not any(alive(pid) for pid in pids), 15, "the shard processes to stop")
    for customer in customers:
        assert len(kazbill_entries(store, customer, [(2026, 3)])) == 1
    store.close()


def _status(service, *, ready: bool, restarts: int = 0) -> ServiceStatus | None:
    status = service.system.ask(service.supervisor, StatusRequest(), 10)
    if not isinstance(status, ServiceStatus) or status.restarts != restarts:
        return None
    if ready and not all(status.shard_pids):
        return None
    return status
