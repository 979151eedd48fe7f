"""The actors' own process group, ended when the service stops.

multiprocTCPBase daemonises its admin, so every actor process runs in a process group of its own.
Thespian's shutdown asks each actor to exit and gives up after ten seconds; an actor in the middle
of a long handler (a crawl waiting on a slow CouchDB node, say) is still working then, and would
run on after `kazbill serve` has exited. A process manager that restarts the service would then
start a second set of actors beside the first. So the service waits for the group to empty and
kills what is left: every handler is idempotent and a killed shard's work is redone from the
store, so a kill loses nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger("kazbill.system")


def live_members(group: int) -> list[int]:
    """The processes of `group` that have not exited (zombies, waiting to be reaped, have)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            members.append(int(entry.name))
    return members


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


def _wait_empty(group: int, timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (members := live_members(group)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return members


def end_process_group(group: int, grace_s: float) -> list[int]:
    """Waits up to `grace_s` for the actors' group to empty, then kills whoever is left (named in
    the log); returns the pids it had to kill. Never the caller's own group."""
    if group == os.getpgid(0):
        return []
    left = _wait_empty(group, grace_s)
    if not left:
        return []
    log.error(
        "actor processes still running %.0fs after the actor system shut down; killing them: %s",
        grace_s,
        "; ".join(f"pid {pid} {_command_line(pid)[:120]}" for pid in left),
    )
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return left
    still = _wait_empty(group, 10.0)
    if still:
        log.critical("actor processes %s survived SIGKILL", still)
    return left
