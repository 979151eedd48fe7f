"""A real Apache CouchDB for the suite, started from a release named by KAZBILL_TEST_COUCHDB.

Debian ships no CouchDB; a release build is a relocatable tree (`couchdb/bin/couchdb` with its
own Erlang runtime). KAZBILL_TEST_COUCHDB names a `.tar.gz` of that tree, a directory holding
one (`couchdb-*.tar.gz`), or the unpacked tree itself. It needs the Debian libraries libicu72
and libssl3 (./scripts/setup installs them when the variable is set).

    with CouchDbNode(release_tree()) as node:
        store = CouchDbStore(node.url)      # http://admin:PASSWORD@127.0.0.1:PORT

The tree is unpacked once per process and shared read-only: each node gets a directory of its
own with its `etc/local.ini`, `etc/vm.args` and data, handed to the release's start script
through COUCHDB_INI_FILES and COUCHDB_ARGS_FILE, so starting one more costs only its boot (~3 s).
A node runs in its own process group and is stopped by PID (SIGTERM, then SIGKILL) when the
block is left, at exit, and by the kernel when the Python process dies (prctl).
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from testkit.support.couchdb_http import answers_up, http
from testkit.support.kazbill_service import free_port
from testkit.support.pouchdb_server import _die_with_parent, _tail

RELEASE_VARIABLE = "KAZBILL_TEST_COUCHDB"
START_TIMEOUT_S = 90.0  # a cold boot is ~3 s; a loaded 2-core machine running other suites is slower
STOP_GRACE_S = 10.0
START_ATTEMPTS = 3  # the port is picked before CouchDB binds it; another process may take it meanwhile
SYSTEM_DATABASES = ("_users", "_replicator", "_global_changes")

_unpacked: dict[Path, Path] = {}
_unpack_lock = threading.Lock()


def release_path() -> Path | None:
    """What KAZBILL_TEST_COUCHDB names, or None when it is unset (the suite then uses pouchdb)."""
    value = os.environ.get(RELEASE_VARIABLE, "").strip()
    return Path(value).expanduser().resolve() if value else None


def _tarball_in(path: Path) -> Path | None:
    if path.is_file() and path.name.endswith(".tar.gz"):
        return path
    found = sorted(path.glob("couchdb-*.tar.gz")) if path.is_dir() else []
    return found[-1] if found else None


def describe_release(path: Path) -> str:
    """'CouchDB 3.4.3 from PATH', read without unpacking (for the report header)."""
    tree = path / "couchdb" if (path / "couchdb" / "bin" / "couchdb").exists() else path
    names = [p.name for p in (tree / "lib").glob("couch-*")] if (tree / "bin" / "couchdb").exists() else []
    tarball = _tarball_in(path)
    names += [tarball.name] if tarball else []
    version = next((m.group(1) for n in names if (m := re.search(r"couch(?:db)?-(\d+\.\d+\.\d+)", n))), "?")
    return f"CouchDB {version} from {path}"


def release_tree(path: Path | None = None) -> Path:
    """The unpacked release (the directory with bin/couchdb), unpacking a tarball once per process."""
    path = path or release_path()
    if path is None:
        raise RuntimeError(f"{RELEASE_VARIABLE} is not set: no CouchDB release to start")
    for tree in (path, path / "couchdb"):
        if (tree / "bin" / "couchdb").exists():
            return tree
    tarball = _tarball_in(path)
    if tarball is None:
        raise RuntimeError(
            f"{RELEASE_VARIABLE}={path}: neither a couchdb-*.tar.gz, a directory holding one, "
            "nor an unpacked release (couchdb/bin/couchdb)"
        )
    with _unpack_lock:
        if tarball not in _unpacked:
            target = Path(tempfile.mkdtemp(prefix="kazbill-couchdb-release-"))
            atexit.register(shutil.rmtree, target, True)
            with tarfile.open(tarball) as archive:
                archive.extractall(target, filter="tar")
            trees = [p.parent.parent for p in target.glob("*/bin/couchdb")]
            if len(trees) != 1:
                raise RuntimeError(f"{tarball} holds no single release tree (*/bin/couchdb)")
            _unpacked[tarball] = trees[0]
        return _unpacked[tarball]


# ------------------------------------------------------------------ one node


@dataclass
class NodeConfig:
    """What a node shares with the other nodes of its cluster (all of it random when alone)."""

    password: str = field(default_factory=lambda: secrets.token_hex(8))
    cookie: str = field(default_factory=lambda: secrets.token_hex(16))
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    single_node: bool = True
    n: int = 1
    q: int = 2


class CouchDbNode:
    """One CouchDB server; `.url` carries the admin's credentials, `.base` does not."""

    def __init__(self, tree: Path, config: NodeConfig | None = None, workdir: Path | None = None):
        self.tree, self.config = tree, config or NodeConfig()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kazbill-couchdb-"))
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"couchdb-{self.port}@127.0.0.1"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://admin:{self.config.password}@127.0.0.1:{self.port}"

    @property
    def auth(self) -> tuple[str, str]:
        return ("admin", self.config.password)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> CouchDbNode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop(remove=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self, wait: bool = True) -> CouchDbNode:
        """Start (again, on the same port and data, when it ran before); wait for `/_up`."""
        if self._process is not None:
            raise RuntimeError(f"CouchDB {self.name} is already running")
        atexit.register(self.stop)
        failure = ""
        for _ in range(1 if self.port else START_ATTEMPTS):
            self.port = self.port or free_port()
            self._launch()
            if not wait:
                return self
            failure = self.wait_up()
            if not failure:
                return self
            exited = self.exited()
            self._kill()
            if not exited:
                break  # it hung rather than lost the port: retrying would hang again
            self.port = None
        self.stop()
        raise RuntimeError(failure)

    def _launch(self) -> None:
        etc, data = self.workdir / "etc", self.workdir / "data"
        etc.mkdir(parents=True, exist_ok=True)
        data.mkdir(exist_ok=True)
        (etc / "local.ini").write_text(self._local_ini(data))
        (etc / "vm.args").write_text(self._vm_args())
        env = dict(
            os.environ,
            COUCHDB_ARGS_FILE=str(etc / "vm.args"),
            COUCHDB_INI_FILES=f"{self.tree / 'etc' / 'default.ini'} {etc / 'local.ini'}",
        )
        with (self.workdir / "couchdb.log").open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.tree / "bin" / "couchdb")],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def _local_ini(self, data: Path) -> str:
        c = self.config
        # smoosh's state_dir defaults to ./data under the shared tree: every path is the node's own.
        return f"""[couchdb]
single_node = {str(c.single_node).lower()}
database_dir = {data}
view_index_dir = {data}
js_engine = quickjs
uuid = {c.uuid}
max_dbs_open = 2000

[cluster]
n = {c.n}
q = {c.q}

[chttpd]
bind_address = 127.0.0.1
port = {self.port}

[chttpd_auth]
secret = {c.secret}

[smoosh]
state_dir = {data}

[log]
level = warning

[admins]
admin = {c.password}
"""

    def _vm_args(self) -> str:
        # The release's own flags, with a node name and cookie of this node's own, so that several
        # run side by side (and the nodes of one cluster, sharing the cookie, can join).
        lines = [
            line
            for line in (self.tree / "etc" / "vm.args").read_text().splitlines()
            if not line.startswith(("-name ", "-setcookie"))
        ]
        return "\n".join([*lines, f"-name {self.name}", f"-setcookie {self.config.cookie}", ""])

    def exited(self) -> bool:
        """Whether it was started and has exited (a port lost to another process, for one)."""
        return self._process is not None and self._process.poll() is not None

    def wait_up(self) -> str:
        """'' once `/_up` answers, else why not (with the end of its log)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return self._failure("exited early")
            if answers_up(self.base):
                return ""
            time.sleep(0.25)
        return self._failure(f"did not answer /_up within {START_TIMEOUT_S:.0f} s")

    def _failure(self, what: str) -> str:
        log = _tail(self.workdir / "couchdb.log")
        return f"CouchDB {self.name} ({self.tree}) {what}; its log ends with:\n{log or '(nothing)'}"

    def create_system_databases(self) -> None:
        """Each of them, unless there already. A single node creates them itself just after it
        comes up: our PUT racing that creation answers 500 "conflict", so look again."""
        deadline = time.monotonic() + START_TIMEOUT_S
        for db in SYSTEM_DATABASES:
            while True:
                if http("GET", f"{self.base}/{db}", self.auth, timeout_s=30)[0] == 200:
                    break
                status, body = http("PUT", f"{self.base}/{db}", self.auth, timeout_s=30)
                if status in (201, 202, 412):  # 412: it was created meanwhile
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"CouchDB {self.name} refused to create {db}: {status} {body}")
                time.sleep(0.25)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)  # start_new_session: its group id is its pid (with its couchjs)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=STOP_GRACE_S)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self, remove: bool = False) -> None:
        """Stop it (the data stays for a restart unless `remove`)."""
        try:
            self._kill()
        finally:
            atexit.unregister(self.stop)
            if remove and self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)


def start_single_node(tree: Path | None = None) -> CouchDbNode:
    """A started single node with its system databases, as an operator's fresh CouchDB 3 has."""
    node = CouchDbNode(tree or release_tree()).start()
    try:
        node.create_system_databases()
    except BaseException:
        node.stop(remove=True)
        raise
    return node
