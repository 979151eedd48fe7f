"""A throwaway pouchdb-server (in memory, loopback only) standing in for CouchDB.

Debian ships no CouchDB, so the suite and the benchmarks run the CouchDB adapter against
pouchdb-server from the repository's node_modules (installed by ./scripts/setup):

    with PouchDbServer() as server:
        store = CouchDbStore(server.url)

The server runs in its own process group and its own temporary working directory (it writes
config.json and log.txt into the current directory); leaving the block stops it, and an atexit
hook stops it even when the block is never left cleanly.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_BIN = REPO_ROOT / "node_modules" / ".bin" / "pouchdb-server"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
# The port is picked before the server binds it; another process may take it meanwhile.
START_ATTEMPTS = 3


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before exec: when the Python process that started the server dies,
    even by SIGKILL (which skips atexit), the kernel kills the server too (Linux prctl)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class PouchDbServer:
    """Context manager; `.url` is e.g. "http://127.0.0.1:41234" (no trailing slash)."""

    def __init__(self, start_timeout_s: float = START_TIMEOUT_S):
        self.start_timeout_s = start_timeout_s
        self.url: str | None = None
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> PouchDbServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("this pouchdb-server is already running")
        if shutil.which("node") is None or not SERVER_BIN.exists():
            raise RuntimeError(
                f"pouchdb-server is not installed (need `node` on PATH and {SERVER_BIN}); run ./scripts/setup"
            )
        atexit.register(self.stop)
        self._workdir = Path(tempfile.mkdtemp(prefix="kazbill-pouchdb-"))
        failure = ""
        for _ in range(START_ATTEMPTS):
            failure = self._start_once(_free_loopback_port())
            if not failure:
                return
            exited = self._process is not None and self._process.poll() is not None
            self._kill()
            # Losing the port race kills pouchdb-server at once (and with a TypeError of its
            # own rather than its EADDRINUSE message); a server that hangs is not retried.
            if not exited:
                break
        self.stop()
        raise RuntimeError(failure)

    def _start_once(self, port: int) -> str:
        """Start on `port` and wait until it answers; the failure description, or ""."""
        assert self._workdir is not None
        console = self._workdir / "console.txt"
        env = dict(os.environ, NODE_OPTIONS="--unhandled-rejections=warn")
        command = [str(SERVER_BIN), "--in-memory", "-p", str(port), "-o", "127.0.0.1", "-n"]
        with console.open("wb") as output:
            self._process = subprocess.Popen(
                command,
                cwd=self._workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return self._failure(f"exited early with status {self._process.returncode}")
            if self._listening_here() and self._answers_json():
                return ""
            time.sleep(0.1)
        return self._failure(f"did not answer within {self.start_timeout_s:.0f} s")

    def _listening_here(self) -> bool:
        # Another process that grabbed the port after we picked it would answer `GET /` too
        # (ours then dies of EADDRINUSE); only our own log says that *this* server listens.
        assert self._workdir is not None
        return f"has started on {self.url}/" in _tail(self._workdir / "log.txt", 1000)

    def _answers_json(self) -> bool:
        request = urllib.request.Request(f"{self.url}/", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return isinstance(json.loads(response.read()), dict)
        except (OSError, ValueError):
            return False

    def _failure(self, what: str) -> str:
        assert self._workdir is not None
        logs = "\n".join(
            part for part in (_tail(self._workdir / "console.txt"), _tail(self._workdir / "log.txt")) if part
        )
        return f"pouchdb-server on {self.url} {what}; its output ends with:\n{logs or '(nothing)'}"

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            try:
                os.killpg(process.pid, sig)  # start_new_session: its group id is its pid
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self) -> None:
        try:
            self._kill()
        finally:
            atexit.unregister(self.stop)
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
