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

from testkit.support.couch_proxy import Answer, CouchProxy, forward


class StallingProxy(CouchProxy):
    def __init__(self, target_url: str):
        super().__init__(target_url)
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

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if self._holds(method, path):
            self._released.wait()
            return None
        return forward(self.target, method, path, headers, body)

    def stop(self) -> None:
        self._released.set()
        super().stop()
