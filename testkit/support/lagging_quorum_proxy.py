"""An HTTP proxy in front of one CouchDB that plays a three-copy cluster where a document was
taken by one copy only (its write answered 202): every quorum read of the chosen document (a GET,
a row of `_all_docs` with keys) answers "not found", as two copies that have not heard of it yet
agree on; only a read of every copy's revisions (`open_revs=all` with `r=3`) is forwarded. Database information
says three copies, and `_membership` three nodes, so the store behaves as on a cluster.

    with LaggingQuorumProxy(couch_url, chosen=account_id) as proxy:
        store = CouchDbStore(proxy.url)
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, unquote, urlsplit

from testkit.support.couch_proxy import Answer, CouchProxy, forward
from testkit.support.late_node_proxy import MEMBERSHIP

MISSING = json.dumps({"error": "not_found", "reason": "missing"}).encode()
JSON = [("Content-Type", "application/json")]


class LaggingQuorumProxy(CouchProxy):
    def __init__(self, target_url: str, chosen: str):
        super().__init__(target_url)
        self.chosen = chosen
        self._lock = threading.Lock()
        self.missed: list[str] = []  # "METHOD path" of every quorum read that missed the document
        self.asked_every_copy: list[str] = []

    def _note(self, kept: list[str], method: str, path: str) -> None:
        with self._lock:
            kept.append(f"{method} {path}")

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(path)
        parts = [unquote(part) for part in split.path.split("/")[1:]]
        if split.path == "/_membership":
            return 200, JSON, MEMBERSHIP
        if method == "GET" and len(parts) == 2 and parts[1] == self.chosen:
            query = parse_qs(split.query)
            if query.get("open_revs") == ["all"] and query.get("r") == ["3"]:
                self._note(self.asked_every_copy, method, path)
                return forward(self.target, method, path, headers, body)
            self._note(self.missed, method, path)
            return 404, JSON, MISSING
        status, answer_headers, answer = forward(self.target, method, path, headers, body)
        if status != 200 or not parts or parts[0].startswith("_"):
            return status, answer_headers, answer
        if method == "GET" and len(parts) == 1:  # database information: three copies
            info = json.loads(answer)
            info["cluster"] = {**info.get("cluster", {}), "n": 3, "w": 2, "r": 2}
            return status, answer_headers, json.dumps(info).encode()
        if len(parts) == 2 and parts[1] == "_all_docs" and self.chosen in answer.decode("utf-8", "replace"):
            rows = json.loads(answer)
            for index, row in enumerate(rows.get("rows", [])):
                if row.get("key") == self.chosen and "error" not in row:
                    rows["rows"][index] = {"key": self.chosen, "error": "not_found"}
                    self._note(self.missed, method, path)
            return status, answer_headers, json.dumps(rows).encode()
        return status, answer_headers, answer
