"""An HTTP proxy in front of one CouchDB that, once told to, answers every request whose path
names a chosen database with a 500, as CouchDB answers an internal error it did not expect
(`unknown_error`): the rest of the store answers as usual. What Kazbill cannot tell from the store
being away, for one account only.

    with RefusingProxy(couch_url) as proxy:
        proxy.refuse("account%2F...")  # from now on
        proxy.accept()  # mended
"""

from __future__ import annotations

import json
import threading

from testkit.support.couch_proxy import Answer, CouchProxy, forward

INTERNAL_ERROR = json.dumps({"error": "unknown_error", "reason": "function_clause", "ref": 1234}).encode()


class RefusingProxy(CouchProxy):
    def __init__(self, target_url: str):
        super().__init__(target_url)
        self._lock = threading.Lock()
        self._refused: str | None = None
        self.refused: list[str] = []  # "METHOD path" of every request refused

    def refuse(self, path_part: str) -> None:
        """Answer 500 from now on to every request whose path (as sent, encoded) contains it."""
        with self._lock:
            self._refused = path_part

    def accept(self) -> None:
        with self._lock:
            self._refused = None

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        with self._lock:
            refusing = self._refused is not None and self._refused in path
            if refusing:
                self.refused.append(f"{method} {path}")
        if refusing:
            return 500, [("Content-Type", "application/json")], INTERNAL_ERROR
        return forward(self.target, method, path, headers, body)
