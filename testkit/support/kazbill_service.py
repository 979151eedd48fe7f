"""`kazbill serve` as a child process for the end-to-end tests: its own admin port, its own
session (so a SIGKILL test can kill exactly it), and a check that nothing it started survives."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

KAZBILL = str(Path(sys.executable).with_name("kazbill"))


def bridge_queues(queue: str) -> list[str]:
    """The durable queues `kazbill serve`'s AMQP bridge declares under KAZBILL_AMQP_QUEUE=queue:
    configuration changes, bookkeeper requests, call events (a test deletes them all)."""
    return [queue, f"{queue}.bookkeepers", f"{queue}.calls"]


def bridge_bound(log: str) -> bool:
    """The AMQP bridge's consumers have declared and bound their queues (so a test may publish)."""
    return "to Kazoo's configuration exchange" in log and "to Kazoo's callevt exchange" in log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    condition: Callable[[], object], timeout_s: float = 90.0, what: str = "condition", *, poll_s: float = 0.2
) -> object:
    """Waits for an outcome (not a speed check): generous, and says what never happened. A
    benchmark timing the outcome polls often (`poll_s`): at 0.2 s its figures came in 200 ms steps."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def processes_mentioning(marker: str) -> list[int]:
    """PIDs whose command line contains `marker` (the test's own temporary path): the service,
    its forked actor processes and its bridges all carry it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


class KazbillService:
    def __init__(self, workdir: Path, env: dict[str, str], clock_file: Path):
        self.workdir, self.clock_file = workdir, clock_file
        self.admin_port = free_port()
        self.env = {
            **os.environ,
            "KAZBILL_ACTOR_PORT": str(self.admin_port),
            "KAZBILL_SCHEDULER_INTERVAL": "3600",
            "KAZBILL_SHARDS": "2",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"serve-{self.admin_port}.log"  # two services in one test keep apart

    def start(self) -> KazbillService:
        with open(self.log_path, "ab") as log:  # the service writes to its own copy of it
            self.process = subprocess.Popen(
                [KAZBILL, "serve", "--no-api", "--clock-file", str(self.clock_file)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self) -> KazbillService:
        wait_for(
            lambda: "kazbill is serving" in self.log() or self.process.poll() is not None,  # type: ignore[union-attr]
            what="the service to start",
        )
        assert self.process.poll() is None, self.log()  # type: ignore[union-attr]
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def crawled(self) -> bool:
        """Whether the scheduler finished a crawl pass (its start-up one first): read from the
        whole log, as a busy start-up may push the line out of `log()`'s tail."""
        return "crawl pass:" in self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def leftovers(self) -> list[int]:
        return processes_mentioning(str(self.clock_file))

    def wait_gone(self, timeout_s: float = 30.0) -> None:
        """Until nothing this service started is left; names what is left if that never comes."""
        try:
            wait_for(lambda: not self.leftovers(), timeout_s, "the actor processes to stop")
        except AssertionError as error:
            # Not `from None`: called from a test's `finally`, this error must not hide the test's own
            # (Python chains it as the context, and pytest shows both).
            raise AssertionError(f"{error}: {_described(self.leftovers())}\n{self.log()}") from error.__context__

    def cleanup(self) -> None:
        """Last resort, whatever the test did: nothing of this service may outlive the test."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            self.wait_gone()
        finally:
            for pid in self.leftovers():
                os.kill(pid, signal.SIGKILL)


def _described(pids: list[int]) -> str:
    described = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].strip()
        except OSError:
            continue
        described.append(f"pid {pid} [{state}] {cmdline[:160]}")
    return "; ".join(described) or "(gone by now)"
