"""The design documents of couch_views/, read from the installed package and checked.

Each file is one CouchDB design document plus a `kazbill` member saying which databases it
belongs in (`db_class`: "accounts", "services", "account", "account-month", "system" with a
`database`, or "any": every database Kazbill reads or writes). The installed copy carries
`kazbill.digest`, a hash of the file's content, so `store check` can tell an up-to-date design
document from a stale one without comparing code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bookkeeper.domain.kazoo_names import parse_db_name

DB_CLASSES = ("accounts", "services", "account", "account-month", "system", "any")
BUILTIN_REDUCERS = ("_sum", "_count", "_stats")
# Databases `store init` creates: Kazoo's (when missing, e.g. on the embedded store) and ours.
SYSTEM_DATABASES = (
    "accounts",
    "services",
    "kazbill_system",
    "kazbill_failures",
    "kazbill_notices",
    "kazbill_outbox",
    "kazbill_hooks",
    "kazbill_topups",
    "kazbill_numbers",
    "kazbill_document_queue",
    "kazbill_directory",
    "kazbill_webhook_deliveries",
)


class DesignDocError(ValueError):
    pass


@dataclass(frozen=True)
class DesignDoc:
    design_id: str
    db_class: str
    database: str | None
    digest: str
    body: Mapping[str, Any]  # what gets installed, `kazbill.digest` included

    def belongs_in(self, db: str) -> bool:
        parsed = parse_db_name(db)
        if self.db_class == "any":
            return parsed.kind != "other"
        if self.db_class == "system":
            return parsed.name == self.database
        return parsed.kind == self.db_class

    def installed_digest(self, installed: Mapping[str, Any] | None) -> str | None:
        meta = (installed or {}).get("kazbill")
        return meta.get("digest") if isinstance(meta, Mapping) else None


def _validate(name: str, body: Any) -> tuple[str, str, str | None]:
    if not isinstance(body, dict):
        raise DesignDocError(f"{name}: a design document must be a JSON object")
    design_id = body.get("_id")
    if not isinstance(design_id, str) or not design_id.startswith("_design/kazbill_"):
        raise DesignDocError(f"{name}: _id must start with _design/kazbill_ (never clobber Kazoo's own)")
    if body.get("language", "javascript") != "javascript":
        raise DesignDocError(f"{name}: language must be javascript")
    meta = body.get("kazbill")
    db_class = meta.get("db_class") if isinstance(meta, dict) else None
    if db_class not in DB_CLASSES:
        raise DesignDocError(f"{name}: kazbill.db_class must be one of {', '.join(DB_CLASSES)}")
    assert isinstance(meta, dict)  # db_class was read from it
    database = meta.get("database")
    if db_class == "system" and database not in SYSTEM_DATABASES:
        raise DesignDocError(f"{name}: kazbill.database must be one of {', '.join(SYSTEM_DATABASES)}")
    options = body.get("options")
    if isinstance(options, dict) and "autoupdate" in options:
        # CouchDB's background indexer reads it from the design document's top level only
        # (ken_server.erl, should_update); under options it is ignored and the index is rebuilt
        # after every write, which it was here for four design documents until 2026-12-05.
        raise DesignDocError(
            f"{name}: autoupdate belongs at the top level, not under options (CouchDB ignores it there)"
        )
    if "autoupdate" in body and body["autoupdate"] is not False:
        raise DesignDocError(f"{name}: autoupdate, when given, must be false (the default builds in the background)")
    views = body.get("views")
    if not isinstance(views, dict) or not views:
        raise DesignDocError(f"{name}: views must be a non-empty object")
    for view, spec in views.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("map"), str):
            raise DesignDocError(f"{name}: view {view} needs a map function")
        # Both stores must give the same answer: only CouchDB's built-in reducers qualify.
        if "reduce" in spec and spec["reduce"] not in BUILTIN_REDUCERS:
            raise DesignDocError(f"{name}: view {view} reduce must be one of {', '.join(BUILTIN_REDUCERS)}")
    return design_id, db_class, database


def parse_design_doc(name: str, text: str) -> DesignDoc:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise DesignDocError(f"{name}: not valid JSON: {error}") from None
    design_id, db_class, database = _validate(name, body)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    installed = {**body, "kazbill": {**body["kazbill"], "digest": digest}}
    return DesignDoc(design_id, db_class, database, digest, installed)


def load_design_docs() -> list[DesignDoc]:
    files = sorted(
        (entry for entry in resources.files("couch_views").iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    docs = [parse_design_doc(entry.name, entry.read_text(encoding="utf-8")) for entry in files]
    seen: set[str] = set()
    for doc in docs:
        if doc.design_id in seen:
            raise DesignDocError(f"{doc.design_id} is defined twice in couch_views/")
        seen.add(doc.design_id)
    return docs
