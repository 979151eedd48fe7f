"""Running a reseller's template where it cannot take the process down with it: in a forked
child with a time bound (the parent kills it) and a memory bound (`setrlimit` on the child's
address space), so a template that loops or swells on real data fails that one document with
the reason, and the worker goes on with the others.

A bare `os.fork` rather than `multiprocessing`: a document worker is itself a process Thespian
started, and multiprocessing refuses children to daemonic processes. The child inherits the
parent's loaded modules and renderer (parsed stylesheet, fonts), so a fork costs milliseconds.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from documents.html import RenderRefused

MIB = 1024 * 1024


@dataclass(frozen=True)
class RenderBounds:
    seconds: float = 60.0  # well inside the document queue's ten-minute claim
    memory_mib: int = 1024  # on top of what the worker already maps


def run_bounded(work: Callable[[], bytes], bounds: RenderBounds, doing: str) -> bytes:
    """`work()` in a child within `bounds`; RenderRefused("template", why) when it fails, is
    killed at its time bound, or dies at its memory bound. `doing` names the work in reasons."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(work, bounds, write_end)
    os.close(write_end)
    try:
        received = _read_until(read_end, time.monotonic() + bounds.seconds)
    finally:
        os.close(read_end)
    if received is None:
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
        raise RenderRefused("template", f"{doing} took longer than {bounds.seconds:g} s")
    code = _reap(pid)
    if not received:
        raise RenderRefused(
            "template", f"{doing} stopped (exit status {code}); it may have needed more than {bounds.memory_mib} MiB"
        )
    outcome, value = pickle.loads(received)
    if outcome != "ok":
        raise RenderRefused("template", value)
    return value


def _reap(pid: int) -> int | None:
    """The child's exit code (negative: the signal that ended it); None when a SIGCHLD handler of
    the hosting process (Thespian's) reaped it first."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None at the deadline."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child(work: Callable[[], bytes], bounds: RenderBounds, fd: int) -> None:
    code = 0
    try:
        _limit(bounds)
        answer: tuple[str, bytes | str]  # ("ok", the document) or ("refused", why)
        try:
            answer = ("ok", work())
        except RenderRefused as refused:
            answer = ("refused", refused.reason)
        except MemoryError:
            answer = ("refused", f"it needed more than {bounds.memory_mib} MiB")
        except Exception as error:
            answer = ("refused", f"{type(error).__name__}: {error}"[:500])
        payload = pickle.dumps(answer)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        code = 70
    finally:
        os._exit(code)  # no atexit handlers, no flushing the parent's buffers twice


def _limit(bounds: RenderBounds) -> None:
    cpu = math.ceil(bounds.seconds) + 1  # a backstop: the parent kills the child at the deadline
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    ceiling = _address_space() + bounds.memory_mib * MIB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


def _address_space() -> int:
    """What the forked child maps already (the worker's libraries, fonts and heap)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
