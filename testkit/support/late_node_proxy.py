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
from urllib.parse import unquote, urlsplit

from testkit.support.couch_proxy import Answer, CouchProxy, forward

NO_DATABASE = json.dumps({"error": "not_found", "reason": "Database does not exist."}).encode()
MEMBERSHIP = json.dumps(
    {"all_nodes": ["couchdb@a", "couchdb@b", "couchdb@c"], "cluster_nodes": ["couchdb@a", "couchdb@b", "couchdb@c"]}
).encode()


class LateNodeProxy(CouchProxy):
    def __init__(self, target_url: str, chosen: str, *, late_answers: int = 12):
        super().__init__(target_url)
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

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if urlsplit(path).path == "/_membership":
            return 200, [("Content-Type", "application/json")], MEMBERSHIP
        if self._late(method, path):
            return 404, [("Content-Type", "application/json")], NO_DATABASE
        return forward(self.target, method, path, headers, body)
