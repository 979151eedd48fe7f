"""DocumentStore over HTTP: Apache CouchDB 3.x, or pouchdb-server standing in for it in tests.
Databases, documents, attachments and local documents here; the plumbing in couchdb_http.py,
listings, views and feeds in couchdb_reads.py, a cluster's 202 in couchdb_accepted.py.

Built on IBM's maintained SDK (`ibmcloudant`). Where this module reaches past the SDK's
generated methods, or second-guesses the server's answer, a comment says which quirk forced it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from bookkeeper.adapters.couchdb_accepted import (
    document_path,
    leaves_from_open_revs,
    live_leaf_documents,
    open_revs_path,
    settle_accepted_write,
)
from bookkeeper.adapters.couchdb_http import DESIGN
from bookkeeper.adapters.couchdb_new_databases import NewDatabases
from bookkeeper.adapters.document_rules import (
    attachment_digest,
    check_attachment_name,
    check_doc_id,
    check_document,
    check_rev,
    checked_database_name,
)
from bookkeeper.domain.cluster_writes import Leaf, couchdb_winner, is_decision_database
from bookkeeper.domain.kazoo_names import parse_db_name
from bookkeeper.ports import (
    Attachment,
    BulkResult,
    Conflict,
    DatabaseExists,
    DatabaseNotFound,
    NotFound,
    PutResult,
    StoreUnavailable,
)

_WRITE_AGAIN = 3  # a document every racing writer withdrew from is written again, this often at most
# A cluster answers 412 "Invalid attachment stub" to an update naming an attachment written a
# moment before, when a copy the update reaches has not got that revision yet: asked again after
# these pauses (seconds) before the error stands.
_STUB_PAUSES_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


class CouchDbStore(NewDatabases):
    # ------------------------------------------------------------------ a cluster's 202

    def _settle(self, db: str, doc_id: str, rev: str, *, created: bool) -> str:
        return settle_accepted_write(
            db, doc_id, rev, created=created, location=self.location, read_leaves=self.leaves, withdraw=self._withdraw
        )

    def _withdraw(self, db: str, doc_id: str, rev: str) -> None:
        self._send("DELETE", f"{document_path(db, doc_id)}?rev={quote(rev)}", err_db=db, err_id=doc_id)

    def leaves(self, db: str, doc_id: str) -> list[Leaf]:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        try:
            return leaves_from_open_revs(self._send("GET", open_revs_path(db, doc_id), err_db=db, err_id=doc_id))
        except NotFound:
            return []

    # ------------------------------------------------------------------ databases

    def create_database(self, db: str) -> None:
        db = checked_database_name(db)
        try:
            if is_decision_database(db):
                # Kazbill's own databases hold its decisions: one copy orders their writes on a
                # cluster as one node does (bookkeeper/domain/cluster_writes.py). A single node
                # and pouchdb-server take the parameters as they are or ignore them.
                self._send("PUT", f"/{quote(db, safe='')}?q=1&n=1", err_db=db, kind="database")
            elif parse_db_name(db).kind == "account-month":
                # One shard range, as many copies as the cluster keeps (its n): a month of one
                # account is small, and each view query or background build updates a view
                # index once per shard, each time resetting a JavaScript process and loading the
                # design document's functions into it (most of CouchDB's time here, not the
                # mapping). Kazoo makes its months with the cluster's default q
                # (kazoo_modb.erl:478, 4.3); either way the month is the same to it.
                self._send("PUT", f"/{quote(db, safe='')}?q=1", err_db=db, kind="database")
            else:
                self._call("put_database", db=db, kind="database")
        except StoreUnavailable as error:
            # Two creations racing on a cluster: the loser may be answered 500 {"reason":
            # "conflict"} (its shard files were made by the other); Kazoo reads it as "exists"
            # once the database is there (kz_couch_db.erl:64-77, 4.3).
            if error.http_status == 500 and str(error).endswith(": conflict") and self._appears(db):
                self._known_now(db)
                raise DatabaseExists(db) from None
            raise
        except DatabaseExists:
            self._known_now(db)
            raise
        self._known_now(db)
        self._await_everywhere(db)
        self._seen_everywhere.add(db)

    def ensure_database(self, db: str) -> bool:
        try:
            self.create_database(db)
        except DatabaseExists:
            created = False  # also when someone else created it a moment ago
        else:
            created = True
        if not created and db not in self._seen_everywhere:  # created: awaited already
            self._await_everywhere(db)
            self._seen_everywhere.add(db)
        return created

    def delete_database(self, db: str) -> None:
        db = checked_database_name(db)
        self._forget(db)
        if not self.database_exists(db):  # pouchdb-server answers 200 for a missing database
            raise DatabaseNotFound(db)
        self._call("delete_database", db=db)
        self._await_everywhere(db, present=False)  # as a creation is: no caller sees it come back

    # ------------------------------------------------------------------ documents

    def get(self, db: str, doc_id: str) -> dict[str, Any]:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        if doc_id.startswith(DESIGN):  # the SDK's *_document methods refuse ids starting "_"
            return self._json(self._call("get_design_document", db=db, err_id=doc_id, ddoc=doc_id.removeprefix(DESIGN)))
        return self._json(self._call("get_document", db=db, doc_id=doc_id))

    def get_from_every_copy(self, db: str, doc_id: str) -> dict[str, Any] | None:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        copies = self.database_info(db).copies or 1
        if copies == 1:
            try:
                return self.get(db, doc_id)
            except NotFound:
                return None
        # open_revs with r = the copies: every copy's leaves, merged (a quorum read stops at the
        # first two that agree, and two copies that have not heard of it yet agree).
        try:
            answer = self._send("GET", f"{open_revs_path(db, doc_id)}&r={copies}", err_db=db, err_id=doc_id)
        except NotFound:
            return None
        live = {doc["_rev"]: doc for doc in live_leaf_documents(answer)}
        return live[couchdb_winner(Leaf(rev) for rev in live).rev] if live else None

    def get_many(self, db: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        db = checked_database_name(db)
        keys = list(dict.fromkeys(check_doc_id(db, doc_id) for doc_id in doc_ids))
        if not keys:
            return {}
        result = self._json(self._call("post_all_docs", db=db, keys=keys, include_docs=True))
        return {row["id"]: row["doc"] for row in result["rows"] if row.get("doc")}

    def put(self, db: str, doc: Mapping[str, Any]) -> PutResult:
        db = checked_database_name(db)
        clean = check_document(db, doc)  # its _id is the URL id: pouchdb-server lets the body win
        doc_id, created = clean["_id"], "_rev" not in clean
        for _ in range(_WRITE_AGAIN + 1):
            if doc_id.startswith(DESIGN):
                result, status = self._call_status(
                    "put_design_document", db=db, err_id=doc_id, ddoc=doc_id.removeprefix(DESIGN), design_document=clean
                )
            else:
                result, status = self._put_document(db, doc_id, clean)
            if status != 202 or self._settle(db, doc_id, result["rev"], created=created) == "stands":
                return PutResult(result["id"], result["rev"])
            # Every writer gave way and nothing stands: ours again, over the withdrawn ones.
            clean, created = {key: value for key, value in clean.items() if key != "_rev"}, False
        raise Conflict(db, doc_id)

    def _put_document(self, db: str, doc_id: str, clean: dict[str, Any]) -> tuple[Any, int]:
        for pause in _STUB_PAUSES_S:
            try:
                return self._call_status("put_document", db=db, doc_id=doc_id, document=clean)
            except StoreUnavailable as error:
                lagging = error.http_status == 412 and "attachment stub" in str(error)
                if not lagging or not clean.get("_attachments"):
                    raise
            time.sleep(pause)
        return self._call_status("put_document", db=db, doc_id=doc_id, document=clean)  # its error stands

    def bulk_put(self, db: str, docs: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        db = checked_database_name(db)
        clean = [check_document(db, doc) for doc in docs]  # all checked before any is written
        if not clean:
            return []
        rows, status = self._call_status("post_bulk_docs", db=db, bulk_docs={"docs": clean})
        results = [
            BulkResult(row.get("id") or doc["_id"], row.get("rev"), row.get("error"), row.get("reason"))
            for doc, row in zip(clean, self._json(rows), strict=True)
        ]
        if status == 202:  # some row fell short of the quorum; the rows do not say which
            results = [self._settled_row(db, doc, result) for doc, result in zip(clean, results, strict=True)]
        return results

    def _settled_row(self, db: str, doc: Mapping[str, Any], result: BulkResult) -> BulkResult:
        if not result.ok or result.rev is None:
            return result
        try:
            if self._settle(db, result.id, result.rev, created="_rev" not in doc) == "stands":
                return result
            again = self.put(db, {key: value for key, value in doc.items() if key != "_rev"})
        except Conflict:
            return BulkResult(result.id, None, "conflict", "Document update conflict.")
        return BulkResult(again.id, again.rev, None, None)

    def delete(self, db: str, doc_id: str, rev: str) -> PutResult:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        check_rev(db, rev)
        try:
            if doc_id.startswith(DESIGN):
                result = self._call(
                    "delete_design_document", db=db, err_id=doc_id, ddoc=doc_id.removeprefix(DESIGN), rev=rev
                )
            else:
                result, status = self._call_status("delete_document", db=db, doc_id=doc_id, rev=rev)
                if status == 202:
                    self._settle(db, doc_id, result["rev"], created=False)
        except (Conflict, NotFound):
            # A stale rev: CouchDB says 409, pouchdb-server 404. A missing doc: CouchDB 409.
            self.get(db, doc_id)  # NotFound when there is nothing to delete
            raise Conflict(db, doc_id) from None
        return PutResult(result["id"], result["rev"])

    def soft_delete(self, db: str, doc_id: str) -> PutResult:
        try:
            return self.put(db, {**self.get(db, doc_id), "pvt_deleted": True})
        except Conflict:  # written in between: once more, on top of that revision
            return self.put(db, {**self.get(db, doc_id), "pvt_deleted": True})

    # ------------------------------------------------------------------ attachments, local docs

    def put_attachment(
        self, db: str, doc_id: str, name: str, data: bytes, content_type: str, rev: str | None
    ) -> PutResult:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        check_attachment_name(db, name)
        if rev is not None:
            check_rev(db, rev)
        # The SDK gzips request bodies, and the server would keep the gzip bytes as the data.
        result, status = self._call_status(
            "put_attachment",
            db=db,
            doc_id=doc_id,
            attachment_name=name,
            attachment=bytes(data),
            content_type=content_type,
            rev=rev,
            headers={"Content-Encoding": "identity"},
        )
        if status == 202 and self._settle(db, doc_id, result["rev"], created=rev is None) != "stands":
            raise Conflict(db, doc_id)  # every writer gave way: the caller's retry writes it again
        return PutResult(result["id"], result["rev"])

    def get_attachment(self, db: str, doc_id: str, name: str) -> Attachment:
        db = checked_database_name(db)
        check_doc_id(db, doc_id)
        check_attachment_name(db, name)
        response = self._call(
            "get_attachment", db=db, doc_id=doc_id, attachment_name=name, err_id=f"{doc_id}/{name}", kind="attachment"
        )
        data = response.content
        return Attachment(
            response.headers.get("Content-Type", "application/octet-stream"), data, attachment_digest(data)
        )

    def get_local(self, db: str, local_id: str) -> dict[str, Any] | None:
        db = checked_database_name(db)
        check_doc_id(db, local_id, "local id")
        try:
            body = self._json(self._call("get_local_document", db=db, doc_id=local_id))
        except NotFound:
            return None
        return {k: v for k, v in body.items() if k not in ("_id", "_rev")}

    def put_local(self, db: str, local_id: str, body: Mapping[str, Any]) -> None:
        db = checked_database_name(db)
        check_doc_id(db, local_id, "local id")
        clean = {**check_document(db, {**body, "_id": local_id}), "_id": f"_local/{local_id}"}
        for last_try in (False, True):
            clean.pop("_rev", None)
            with contextlib.suppress(NotFound):  # overwriting a local document still takes its current _rev
                clean["_rev"] = self._json(self._call("get_local_document", db=db, doc_id=local_id))["_rev"]
            try:
                self._call("put_local_document", db=db, doc_id=local_id, document=clean)
                return
            except Conflict:
                if last_try:
                    raise
