"""An HTTP proxy in front of one CouchDB that, once told to, never answers a request whose path
names a chosen database: the request is held until the proxy stops, as a store that took the
connection and went silent would hold it from a client whose timeout is longer than the test.
Everything else is forwarded. Unlike TcpProxy.freeze, the rest of the store stays reachable.

    with StallingProxy(couch_url) as proxy:
        store = CouchDbStore(proxy.url)
        proxy.stall("account%2F...")  # from now on
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

from testkit.support.local_http import LocalHttpServer, QuietHandler
from testkit.support.quorum_proxy import forward, send_answer


class StallingProxy(LocalHttpServer):
    def __init__(self, target_url: str):
        super().__init__()
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5984)
        credentials = parts.netloc.rpartition("@")[0]
        self.url = urlunsplit(
            parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}")
        )
        self._lock = threading.Lock()
        self._stalled: str | None = None
        self._released = threading.Event()
        self.held: list[str] = []  # "METHOD path" of every request held

    def stall(self, path_part: str) -> None:
        """Hold every request from now on whose path (as sent, encoded) contains `path_part`."""
        with self._lock:
            self._stalled = path_part

    def release(self) -> None:
        """The store answers again: nothing more is held (what was held stays unanswered)."""
        with self._lock:
            self._stalled = None

    def _holds(self, method: str, path: str) -> bool:
        with self._lock:
            if self._stalled is None or self._stalled not in path:
                return False
            self.held.append(f"{method} {path}")
            return True

    def handler(self):
        proxy = self

        class Handler(QuietHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy._holds(self.command, self.path):
                    proxy._released.wait()
                    self.close_connection = True  # no answer: the client sees the connection end
                    return
                status, headers, answer = forward(proxy.target, self.command, self.path, dict(self.headers), body)
                send_answer(self, status, headers, answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_COPY = _forward

        return Handler

    def stop(self) -> None:
        self._released.set()
        super().stop()
