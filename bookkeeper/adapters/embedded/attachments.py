"""The embedded store's attachments: kept beside their document with CouchDB's md5 digest and
the revision that wrote them (revpos); a revision that names an attachment as a stub keeps it,
one that leaves it out deletes it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from bookkeeper.adapters import document_rules as rules
from bookkeeper.adapters.embedded.store_parts import StoreParts
from bookkeeper.ports import Attachment, Conflict, InvalidDocument, NotFound, PutResult


class AttachmentsMixin(StoreParts):
    """Mixed into EmbeddedStore, whose connection, lock and document helpers it uses."""

    def _store_attachments(
        self, db: str, doc_id: str, attachments: Mapping[str, Any], generation: int, existing: set[str]
    ) -> None:
        # CouchDB keeps only the attachments the new revision names: stubs keep, data replaces.
        # `existing`: the names stored before this revision (the batch read them: doc_writes.py).
        for name, spec in attachments.items():
            rules.check_attachment_name(db, name)
            if not isinstance(spec, Mapping):
                raise InvalidDocument(db, f"_attachments.{name}", "must be an object")
            if spec.get("stub"):
                if name not in existing:
                    raise InvalidDocument(db, f"_attachments.{name}", "stub of an attachment that does not exist")
                continue
            try:
                data = base64.b64decode(spec["data"], validate=True)
            except (KeyError, TypeError, ValueError):
                raise InvalidDocument(db, f"_attachments.{name}.data", "must be base64 data or a stub") from None
            self._db.execute(
                "INSERT OR REPLACE INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    db,
                    doc_id,
                    name,
                    str(spec.get("content_type", "application/octet-stream")),
                    data,
                    rules.attachment_digest(data),
                    generation,
                ),
            )
        for name in existing - set(attachments):
            self._db.execute("DELETE FROM attachments WHERE db = ? AND doc_id = ? AND name = ?", (db, doc_id, name))

    def put_attachment(
        self, db: str, doc_id: str, name: str, data: bytes, content_type: str, rev: str | None
    ) -> PutResult:
        with self._write():
            database = self._require_db(db)
            rules.check_doc_id(database, doc_id)
            rules.check_attachment_name(database, name)
            row = self._db.execute(
                "SELECT rev, deleted, body FROM docs WHERE db = ? AND id = ?", (database, doc_id)
            ).fetchone()
            doc: dict[str, Any] = (
                self._compose(database, doc_id, row[0], row[2]) if row and not row[1] else {"_id": doc_id}
            )
            if rev is not None:
                doc["_rev"] = rev
            elif row and not row[1]:
                raise Conflict(database, doc_id)
            stubs = dict(doc.get("_attachments", {}))
            stubs[name] = {"content_type": content_type, "data": base64.b64encode(bytes(data)).decode()}
            doc["_attachments"] = stubs
            return self._apply(database, doc)

    def get_attachment(self, db: str, doc_id: str, name: str) -> Attachment:
        self.get(db, doc_id)  # NotFound for a missing or deleted document
        with self._lock:
            row = self._db.execute(
                "SELECT content_type, data, digest FROM attachments WHERE db = ? AND doc_id = ? AND name = ?",
                (rules.checked_database_name(db), doc_id, name),
            ).fetchone()
        if row is None:
            raise NotFound(db, f"{doc_id}/{name}", "attachment")
        return Attachment(content_type=row[0], data=bytes(row[1]), digest=row[2])
