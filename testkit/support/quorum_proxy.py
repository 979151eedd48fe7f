"""An HTTP proxy in front of a CouchDB that makes some writes look the way a cluster answers a
race: `202 Accepted` instead of 201, and, with `rival=True`, a rival revision of the same document
beside the one written (as if another writer had reached the quorum at the same moment). The
rival is the written body marked `pvt_rival`, added with `new_edits=false`, the way the cluster's
copies hand each other revisions. On one node it forces what a cluster does now and then.

    with QuorumProxy(couch_url, chosen=lambda db, doc_id: doc_id.startswith("seq-"), every=2) as proxy:
        store = CouchDbStore(proxy.url)
"""

from __future__ import annotations

import gzip
import itertools
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from testkit.support.couch_proxy import Answer, CouchProxy, forward


class QuorumProxy(CouchProxy):
    def __init__(
        self,
        target_url: str,
        chosen: Callable[[str, str], bool],
        *,
        every: int = 1,
        rival: bool = True,
        designs: bool = False,
    ):
        super().__init__(target_url)
        self.chosen, self.every, self.rival = chosen, every, rival
        self.designs = designs  # whether design documents may be chosen too
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        self.forced: list[tuple[str, str]] = []  # (db, id) of every write answered 202 here
        self.rivals: list[tuple[str, str, str]] = []  # (db, id, rival revision) added here

    def _pick(self, db: str, doc_id: str) -> bool:
        if doc_id.startswith("_local/") or (doc_id.startswith("_design/") and not self.designs):
            return False
        if not self.chosen(db, doc_id):
            return False
        with self._lock:
            return next(self._count) % self.every == 0

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        status, answer_headers, answer = forward(self.target, method, path, headers, body)
        if method in ("PUT", "POST") and status == 201:
            status, answer = self.tamper(path, headers, body, answer)
        return status, answer_headers, answer

    def tamper(self, path: str, headers: dict[str, str], body: bytes, answer: bytes) -> tuple[int, bytes]:
        """A 201 to a write of chosen documents becomes a 202, with a rival beside it."""
        url = urlsplit(path)
        parts = [unquote(part) for part in url.path.split("/")[1:]]
        if any(k.lower() == "content-encoding" and "gzip" in v for k, v in headers.items()):
            body = gzip.decompress(body)  # the SDK compresses what it sends
        try:
            sent, written = json.loads(body or b"null"), json.loads(answer)
        except ValueError:
            return 201, answer
        if len(parts) == 2 and parts[1] == "_bulk_docs" and isinstance(sent, dict):
            rows = list(zip(sent.get("docs", []), written, strict=False))
        elif len(parts) == 2 and not parts[1].startswith("_") and isinstance(sent, dict):
            rev = sent.get("_rev") or (parse_qs(url.query).get("rev") or [None])[0]
            rows = [({**sent, "_id": parts[1], **({"_rev": rev} if rev else {})}, written)]
        else:
            return 201, answer
        db, tampered = parts[0], False
        for doc, row in rows:
            if isinstance(row, dict) and row.get("ok") and self._pick(db, str(row["id"])):
                tampered = True
                self.forced.append((db, row["id"]))
                if self.rival:
                    self._add_rival(db, doc, row["rev"], headers)
        return (202 if tampered else 201), answer

    def _add_rival(self, db: str, doc: dict[str, Any], ours: str, headers: dict[str, str]) -> None:
        generation = int(ours.split("-", 1)[0])
        rev_id = secrets.token_hex(16)
        parents = [doc["_rev"].split("-", 1)[1]] if doc.get("_rev") else []
        rival = {
            **{k: v for k, v in doc.items() if k != "_rev"},
            "pvt_rival": True,
            "_rev": f"{generation}-{rev_id}",
            "_revisions": {"start": generation, "ids": [rev_id, *parents]},
        }
        auth = {k: v for k, v in headers.items() if k.lower() == "authorization"}
        status, _, answer = forward(
            self.target,
            "POST",
            f"/{quote(db, safe='')}/_bulk_docs",
            {**auth, "Content-Type": "application/json"},
            json.dumps({"new_edits": False, "docs": [rival]}).encode(),
        )
        assert status in (201, 202), answer
        self.rivals.append((db, doc["_id"], rival["_rev"]))
