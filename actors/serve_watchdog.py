"""The supervisor's watchdog: when the process that started the service disappears without
shutting the actor system down, every actor of the process group is killed, so none is ever
orphaned (Thespian's admin daemonises and would otherwise run forever)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable

from actors.messages import StartService

log = logging.getLogger("kazbill.supervisor")
WATCHDOG = "watchdog"


class ServeWatchdog:
    """Mixed into the supervisor (after the actor class, whose `wakeupAfter` it uses)."""

    config: StartService | None
    wakeupAfter: Callable[..., None]

    def _watch_serve_process(self) -> bool:
        """Only when the actors run in their own process group (multiprocTCPBase daemonises them):
        in an in-process system the group is the caller's own."""
        pid = self.config.serve_pid if self.config else None
        if not pid or pid == os.getpid():
            return False
        try:
            return os.getpgid(pid) != os.getpgid(0)
        except ProcessLookupError:
            return True

    def _start_watchdog(self) -> None:
        if self.config is not None and self._watch_serve_process():
            self.wakeupAfter(self.config.watchdog_interval_s, payload=WATCHDOG)

    def _watchdog_tick(self) -> None:
        if self.config is None or self.config.serve_pid is None:
            return  # (the watchdog runs only when there is a process to watch)
        try:
            os.kill(self.config.serve_pid, 0)
        except ProcessLookupError:
            log.critical(
                "the process that started the service (pid %s) is gone; stopping every actor", self.config.serve_pid
            )
            os.killpg(os.getpgid(0), signal.SIGKILL)
        self.wakeupAfter(self.config.watchdog_interval_s, payload=WATCHDOG)
