"""`kazbill serve`: the actor system, the bridges and the API, as one service.

This process owns the actor system (and shuts it down on every way out), runs each bridge and
the API as a child process (each dies with this one: PR_SET_PDEATHSIG), restarts a child that
dies within the restart budget, and exits non-zero (EX_SOFTWARE) when a budget is spent so that
the process manager (systemd, Docker) restarts the whole service from the store.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from actors.bridges.run import die_with_parent
from actors.messages import ServiceFailed, ServiceStatus, StartService, StatusRequest
from actors.metrics_exporter import ServiceMetrics, serve_metrics
from actors.supervision import RestartBudget
from actors.system import admin_listening, running_service
from bookkeeper.bootstrap import build_store
from bookkeeper.config import Settings
from bookkeeper.ports import StoreError
from bookkeeper.services.cluster.membership import Membership

log = logging.getLogger("kazbill.service")
EXIT_GAVE_UP = 70  # EX_SOFTWARE
LEFTOVER_WAIT_S = 5.0
METRICS_EVERY_S = 5.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, preexec_fn=die_with_parent)
        self.starts += 1
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


@dataclass
class Children:
    children: list[Child]
    budget: RestartBudget
    failure: str | None = field(default=None)

    def start(self) -> None:
        for child in self.children:
            child.start()

    def watch(self) -> bool:
        """Restarts the children that died; False once the budget is spent."""
        for child in self.children:
            code = child.exited()
            if code is None:
                continue
            if not self.budget.allow(time.monotonic()):
                self.failure = f"{child.name} exited ({code}) and the restart budget is spent"
                return False
            log.warning("%s exited with %s; restarting it", child.name, code)
            child.start()
        return True

    def stop(self, grace_s: float) -> None:
        """SIGTERM to all (each finishes its batch), then SIGKILL whoever is still there."""
        for child in self.children:
            if child.process is not None and child.exited() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop in %.0fs; killing it", child.name, grace_s)
                child.process.kill()
                child.process.wait()


@dataclass
class NodeLease:
    """In a cluster (KAZBILL_NODE), this node's lease in the store, renewed every third of its
    length while the service runs and given up when it stops (bookkeeper/services/cluster/membership.py).
    A renewal the store refuses is retried at the next turn; if the lease runs out meanwhile,
    the other nodes take this one's accounts over, and it takes its own back once renewed."""

    membership: Membership | None
    renewed_at: float | None = None

    @classmethod
    def of(cls, settings: Settings) -> NodeLease:
        if not settings.node:
            return cls(None)
        return cls(Membership(build_store(settings), settings.node, settings.lease_s))

    def keep(self) -> None:
        if self.membership is None:
            return
        now = time.monotonic()
        if self.renewed_at is not None and now - self.renewed_at < self.membership.lease_s / 3:
            return
        try:
            self.membership.renew()
            self.renewed_at = now
        except StoreError as error:
            log.warning("cannot renew this node's lease: %s", error)

    def give_up(self) -> None:
        if self.membership is None:
            return
        try:
            self.membership.leave()
        except StoreError as error:  # the lease runs out by itself
            log.warning("cannot give this node's lease up: %s", error)
        self.membership.store.close()


def kazbill_command() -> str:
    found = shutil.which("kazbill", path=os.path.dirname(sys.executable)) or shutil.which("kazbill")
    if found is None:
        raise RuntimeError("the kazbill command is not installed; run ./scripts/setup")
    return found


def child_commands(settings: Settings, *, with_api: bool, clock_file: str | None) -> list[Child]:
    kazbill = kazbill_command()
    extra = ["--clock-file", clock_file] if clock_file else []
    children = [
        Child(f"{name} bridge", [kazbill, "bridge", name, "--admin-port", str(settings.actor_admin_port), *extra])
        for name in settings.bridges
    ]
    if with_api:
        children.append(Child("api", [kazbill, "api", *extra]))
    return children


def wait_for_leftover_system(admin_port: int) -> None:
    """A predecessor killed with SIGKILL leaves its actors behind until their watchdog notices
    (about a second); starting over them would attach to the dead service's supervisor."""
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    while admin_listening(admin_port):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"another actor system is running on port {admin_port}: "
                "stop that service first or set KAZBILL_ACTOR_PORT"
            )
        time.sleep(0.2)


def serve(settings: Settings, *, with_api: bool = True, clock_file: str | None = None, grace_s: float = 20.0) -> int:
    wait_for_leftover_system(settings.actor_admin_port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    config = StartService(
        settings=settings,
        shard_count=settings.shard_count,
        restart_intensity=settings.restart_intensity,
        restart_period_s=settings.restart_period_s,
        serve_pid=os.getpid(),
        work_deadline_s=settings.shard_work_deadline_s,
        clock_file=clock_file,
        scheduler_interval_s=settings.scheduler_interval_s,
        mailer_interval_s=settings.mailer_interval_s,
    )
    code = 0
    lease = NodeLease.of(settings)
    with running_service(config, admin_port=settings.actor_admin_port) as service:
        children = Children(
            child_commands(settings, with_api=with_api, clock_file=clock_file),
            RestartBudget(settings.restart_intensity, settings.restart_period_s),
        )
        lease.keep()
        children.start()
        log.info(
            "kazbill is serving: %d shards, bridges %s%s",
            service.shard_count,
            ", ".join(settings.bridges),
            ", API on " + settings.api_bind if with_api else "",
        )
        metrics = ServiceMetrics(settings.node or socket.gethostname())
        exporter = serve_metrics(metrics, settings.metrics_bind) if settings.metrics_bind else None
        asked_at = 0.0
        try:
            while not stop.is_set():
                if exporter is not None and time.monotonic() - asked_at >= METRICS_EVERY_S:
                    asked_at = time.monotonic()  # the answer (or a ServiceFailed) is the message below
                    message = service.system.ask(service.supervisor, StatusRequest(), 2)
                    if isinstance(message, ServiceStatus):
                        metrics.update(message)
                else:
                    message = service.system.listen(0.5)
                if isinstance(message, ServiceFailed):
                    log.critical("the actor system gave up: %s", message.reason)
                    code = EXIT_GAVE_UP
                    break
                if not children.watch():
                    log.critical("giving up: %s", children.failure)
                    code = EXIT_GAVE_UP
                    break
                lease.keep()
        finally:
            log.info("stopping: draining the bridges, then the actors")
            children.stop(grace_s)
            lease.give_up()
            if exporter is not None:
                exporter.shutdown()
    log.info("kazbill stopped (exit %d)", code)
    return code
