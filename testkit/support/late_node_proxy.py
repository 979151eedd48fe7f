"""An HTTP proxy in front of one CouchDB that plays a three-node cluster where one node has not
heard yet of a database created a moment ago: after the chosen database is created, every third
request about it but the HEADs (they happened to reach the nodes that knew, as CI saw) is
answered 404 "Database does not exist.", the way a node answers before the shard map reaches it,
for the first `late_answers` such answers. `_membership` lists
three nodes, so the store behaves as on a cluster.

    with LateNodeProxy(couch_url, chosen="kazbill_numbers") as proxy:
        store = CouchDbStore(proxy.url)
"""

from __future__ import annotations

import itertools
import json
import threading
from urllib.parse import unquote, urlsplit, urlunsplit

from testkit.support.local_http import LocalHttpServer, QuietHandler
from testkit.support.quorum_proxy import forward, send_answer

NO_DATABASE = json.dumps({"error": "not_found", "reason": "Database does not exist."}).encode()
MEMBERSHIP = json.dumps(
    {"all_nodes": ["couchdb@a", "couchdb@b", "couchdb@c"], "cluster_nodes": ["couchdb@a", "couchdb@b", "couchdb@c"]}
).encode()


class LateNodeProxy(LocalHttpServer):
    def __init__(self, target_url: str, chosen: str, *, late_answers: int = 12):
        super().__init__()
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5984)
        credentials = parts.netloc.rpartition("@")[0]
        self.url = urlunsplit(
            parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}")
        )
        self.chosen, self.late_left = chosen, late_answers
        self.created = False
        self.answered_late: list[str] = []  # "METHOD path" of every request the late node answered
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def _late(self, method: str, path: str) -> bool:
        parts = [unquote(part) for part in urlsplit(path).path.split("/")[1:]]
        if not parts or parts[0] != self.chosen:
            return False
        with self._lock:
            if method == "PUT" and len(parts) == 1:
                self.created = True
                return False
            if method == "HEAD" or not self.created or self.late_left == 0 or next(self._count) % 3 != 1:
                return False
            self.late_left -= 1
            self.answered_late.append(f"{method} {path}")
            return True

    def handler(self):
        proxy = self

        class Handler(QuietHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlsplit(self.path).path == "/_membership":
                    status, headers, answer = 200, [("Content-Type", "application/json")], MEMBERSHIP
                elif proxy._late(self.command, self.path):
                    status, headers, answer = 404, [("Content-Type", "application/json")], NO_DATABASE
                else:
                    status, headers, answer = forward(proxy.target, self.command, self.path, dict(self.headers), body)
                send_answer(self, status, headers, answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_COPY = _forward

        return Handler
