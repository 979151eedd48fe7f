"""The checks both store adapters run before a write, so both refuse the same input with the
same error, whatever the server behind them would have done (pouchdb-server, for one, lets a
body `_id` override the URL id and accepts names CouchDB refuses)."""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import canonical_db_name, database_name_problem
from bookkeeper.ports import InvalidDatabaseName, InvalidDocument

# Top-level members CouchDB reserves; any other member starting with "_" is refused.
SPECIAL_MEMBERS = frozenset({"_id", "_rev", "_deleted", "_attachments"})
MAX_ID_LENGTH = 1024
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def checked_database_name(db: object) -> str:
    problem = database_name_problem(db)
    if problem:
        raise InvalidDatabaseName(str(db), problem)
    assert isinstance(db, str)  # database_name_problem refuses anything else
    return canonical_db_name(db)


def check_doc_id(db: str, doc_id: object, field: str = "_id") -> str:
    if not isinstance(doc_id, str) or not doc_id:
        raise InvalidDocument(db, field, "must be a non-empty string")
    if len(doc_id) > MAX_ID_LENGTH:
        raise InvalidDocument(db, field, f"must be at most {MAX_ID_LENGTH} characters")
    if _CONTROL_CHARACTER.search(doc_id):
        raise InvalidDocument(db, field, "must not contain control characters")
    if doc_id.startswith("_") and not doc_id.startswith("_design/"):
        raise InvalidDocument(db, field, "only _design/ ids may start with an underscore")
    if doc_id == "_design/":
        raise InvalidDocument(db, field, "a design document needs a name after _design/")
    return doc_id


def check_rev(db: str, rev: object, field: str = "_rev") -> str:
    if not isinstance(rev, str):
        raise InvalidDocument(db, field, f"not a revision: {rev!r}")
    head, _, tail = rev.partition("-")
    if not head.isdigit() or not tail:
        raise InvalidDocument(db, field, f"not a revision: {rev!r}")
    return rev


def _plainly_valid(value: Any, depth: int) -> bool:
    """True when the value is plainly storable: exact JSON types, no NUL, finite, not too deep.
    No paths are built on the way (that was most of a write's checking), and a member that is a
    string, a whole number or null is decided in the loop, without a call of its own (most of a
    ledger document's members: the walk is twice as fast so); anything else, a subclass
    included, goes through `_check_value`, which names what it refuses."""
    if depth > 64:
        return False
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
        if not all(type(key) is str for key in value):
            return False
    elif kind is list:
        items = value
    elif kind is str:
        return "\x00" not in value
    elif value is None or kind is int or kind is bool:
        return True
    else:
        return kind is float and math.isfinite(value)
    if depth == 64:
        return not value  # its members would be nested deeper than 64
    for item in items:
        member = type(item)
        if member is str:
            if "\x00" in item:
                return False
        elif not (member is int or member is bool or item is None or _plainly_valid(item, depth + 1)):
            return False
    return True


def _check_value(db: str, path: str, value: Any, depth: int) -> None:
    if depth > 64:
        raise InvalidDocument(db, path, "nested deeper than 64 levels")
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and "\x00" in value:
            raise InvalidDocument(db, path, "strings must not contain NUL characters")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidDocument(db, path, "numbers must be finite (JSON has no NaN or Infinity)")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidDocument(db, f"{path}.{key!r}", "object keys must be strings")
            _check_value(db, f"{path}.{key}", item, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(db, f"{path}[{index}]", item, depth + 1)
        return
    raise InvalidDocument(db, path, f"{type(value).__name__} is not a JSON value")


def check_document(db: str, doc: object) -> dict[str, Any]:
    """A document ready to be written: a dict of JSON values with a valid `_id`."""
    if not isinstance(doc, Mapping):
        raise InvalidDocument(db, "(document)", "a document must be a JSON object")
    doc_id = check_doc_id(db, doc.get("_id"))
    for key, value in doc.items():
        if not isinstance(key, str):
            raise InvalidDocument(db, repr(key), "object keys must be strings")
        if key.startswith("_") and key not in SPECIAL_MEMBERS:
            raise InvalidDocument(db, key, "unknown special member (only _id, _rev, _deleted, _attachments)")
        if key == "_rev" and value is not None:
            check_rev(db, value)
        elif key == "_deleted" and not isinstance(value, bool):
            raise InvalidDocument(db, key, "must be true or false")
        elif key == "_attachments" and not isinstance(value, Mapping):
            raise InvalidDocument(db, key, "must be an object of attachments")
        elif not _plainly_valid(value, 1):
            _check_value(db, key, value, 1)
    clean = dict(doc)
    clean["_id"] = doc_id
    if clean.get("_rev") is None:
        clean.pop("_rev", None)
    return clean


def check_attachment_name(db: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidDocument(db, "attachment name", "must be a non-empty string")
    if name.startswith("_"):
        raise InvalidDocument(db, "attachment name", "must not start with an underscore")
    return name


def attachment_digest(data: bytes) -> str:
    """CouchDB's attachment digest, "md5-" and the base64 of the md5 of the stored bytes."""
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()
