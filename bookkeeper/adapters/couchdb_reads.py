"""CouchDB's listings, views and feeds for the store adapter: which databases there are, view
and `_all_docs` queries (with pouchdb-server's gaps filled in), a database's changes and the
server's `_db_updates` (polled where the server lacks it)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from bookkeeper.adapters.couchdb_compat import DbUpdatesPoller, doc_id_window, view_result
from bookkeeper.adapters.couchdb_http import DESIGN, NO_DB_UPDATES, CouchHttp, LongpollExpired
from bookkeeper.adapters.document_rules import checked_database_name
from bookkeeper.domain.kazoo_names import canonical_db_name
from bookkeeper.ports import (
    Change,
    ChangesPage,
    DatabaseInfo,
    DatabaseNotFound,
    DbUpdate,
    DbUpdatesPage,
    InvalidQuery,
    StoreError,
    ViewQuery,
    ViewResult,
)


class CouchReads(CouchHttp):
    def __init__(self, url: str, username: str | None = None, password: str | None = None, timeout_s: float = 30.0):
        super().__init__(url, username, password, timeout_s)
        self._native_db_updates: bool | None = None
        self._poller = DbUpdatesPoller(self._snapshot)

    def list_databases(self, prefix: str = "") -> list[str]:
        if prefix and self._vendor_name() == "couchdb":
            # A key range over the cluster's database list: an account's databases in one request.
            names = self._json(
                self._send(
                    "GET",
                    "/_all_dbs?start_key="
                    + quote(json.dumps(prefix))
                    + "&end_key="
                    + quote(json.dumps(prefix + "\ufff0")),
                )
            )
        else:  # pouchdb-server lists every database, and strips "/" from the names it lists
            names = self._json(self._call("get_all_dbs"))
        return sorted(
            {
                name
                for name in (canonical_db_name(raw) for raw in names if not raw.startswith("_"))
                if name.startswith(prefix)
            }
        )

    def database_info(self, db: str) -> DatabaseInfo:
        db = checked_database_name(db)  # also the name to report: pouchdb-server strips "/"
        info = self._json(self._call("get_database_information", db=db))
        cluster = info.get("cluster")  # CouchDB 2+: {"q", "n", "w", "r"}; pouchdb-server: absent
        copies = cluster.get("n") if isinstance(cluster, dict) else None
        return DatabaseInfo(
            db,
            int(info.get("doc_count", 0)),
            str(info.get("update_seq", "0")),
            copies if isinstance(copies, int) else None,
        )

    @staticmethod
    def _view_params(query: ViewQuery, is_view: bool) -> dict[str, Any]:
        if not is_view and (query.reduce or query.group or query.group_level is not None):
            raise InvalidQuery("_all_docs has no reduce: reduce, group and group_level do not apply")
        params = {
            "keys": None if query.keys is None else list(query.keys),
            "start_key": query.start_key,
            "end_key": query.end_key,
            "limit": query.limit,
            "skip": query.skip or None,
            "descending": query.descending or None,
            "include_docs": query.include_docs or None,
            "inclusive_end": None if query.inclusive_end else False,
        }
        if is_view:
            params.update(
                reduce=query.reduce,
                group=query.group or None,
                group_level=query.group_level,
                start_key_doc_id=query.start_key_doc_id,
                end_key_doc_id=query.end_key_doc_id,
            )
        params = {name: value for name, value in params.items() if value is not None}
        if query.keys is None and query.has_key():
            params["key"] = query.key  # may be None: the key null
        return params

    def _run_view(
        self, db: str, op: str, path: str, params: dict[str, Any], sdk_args: dict[str, Any], **kw: Any
    ) -> Mapping[str, Any]:
        # The SDK drops None-valued parameters, so a query for the key null goes out by hand.
        if "key" in params and params["key"] is None:
            return self._json(self._send("POST", path, params, err_db=db, **kw))
        return self._json(self._call(op, db=db, **sdk_args, **params, **kw))

    def query_view(self, db: str, design: str, view: str, query: ViewQuery = ViewQuery()) -> ViewResult:
        db = checked_database_name(db)
        design = design.removeprefix(DESIGN)
        if not design or not view:
            raise InvalidQuery("a view query needs a design document name and a view name")
        params = self._view_params(query, is_view=True)
        emulate = query.keys is None and not (query.start_key_doc_id is None and query.end_key_doc_id is None)
        emulate = emulate and self._vendor_name() != "couchdb"  # PouchDB's map/reduce lacks doc-id bounds
        if emulate:  # fetch the whole key range; _doc_id_window cuts and pages it
            for name in ("start_key_doc_id", "end_key_doc_id", "skip", "limit", "inclusive_end"):
                params.pop(name, None)
        path = f"/{quote(db, safe='')}/_design/{quote(design, safe='')}/_view/{quote(view, safe='')}"
        result = self._run_view(
            db, "post_view", path, params, {"ddoc": design, "view": view}, err_id=DESIGN + design, kind="view"
        )
        rows = result.get("rows", [])
        return view_result(doc_id_window(rows, query) if emulate else rows, result)

    def all_docs(self, db: str, query: ViewQuery = ViewQuery()) -> ViewResult:
        db = checked_database_name(db)
        params = self._view_params(query, is_view=False)
        result = self._run_view(db, "post_all_docs", f"/{quote(db, safe='')}/_all_docs", params, {}, kind="view")
        return view_result(result.get("rows", []), result)

    def changes(
        self,
        db: str,
        since: str = "0",
        *,
        limit: int | None = None,
        include_docs: bool = False,
        timeout_s: float | None = None,
    ) -> ChangesPage:
        db = checked_database_name(db)
        params: dict[str, Any] = {"since": str(since), "limit": limit, "include_docs": include_docs or None}
        longpoll_s = timeout_s if timeout_s and timeout_s > 0 else None
        if longpoll_s:
            # pouchdb-server ignores `timeout` and holds the request until a change comes;
            # the client's read timeout ends the wait instead.
            params.update(feed="longpoll", timeout=max(1, int(longpoll_s * 1000)))
        try:
            result = self._json(self._call("post_changes", db=db, kind="feed", longpoll_s=longpoll_s, **params))
        except LongpollExpired:
            return ChangesPage([], str(since), expired=True)
        return ChangesPage(
            [
                Change(
                    row["id"],
                    str(row["seq"]),
                    (row.get("changes") or [{}])[0].get("rev", ""),
                    bool(row.get("deleted")),
                    row.get("doc"),
                )
                for row in result.get("results", [])
            ],
            str(result.get("last_seq", since)),
        )

    def db_updates(self, since: str = "0", *, timeout_s: float | None = None) -> DbUpdatesPage:
        since = str(since)
        if self._native_db_updates is False or since.startswith("poll-"):
            return self._poller.updates(since, timeout_s)
        longpoll_s = timeout_s if timeout_s and timeout_s > 0 else None
        query = f"feed=longpoll&timeout={max(1, int(longpoll_s * 1000))}" if longpoll_s else "feed=normal"
        try:
            # The SDK's get_db_updates logs a root-logger warning on every call (deprecated:
            # Cloudant lacks it), so the request goes out through the SDK's send instead.
            result = self._json(self._send("GET", f"/_db_updates?{query}&since={quote(since)}", longpoll_s=longpoll_s))
        except LongpollExpired:
            return DbUpdatesPage([], since)
        except StoreError as error:
            if getattr(error, "http_status", None) not in NO_DB_UPDATES:
                raise
            self._native_db_updates = False
            return self._poller.updates(since, timeout_s)
        self._native_db_updates = True
        kinds = {"created": "created", "deleted": "deleted"}
        return DbUpdatesPage(
            [
                DbUpdate(canonical_db_name(row["db_name"]), kinds.get(row.get("type"), "updated"))
                for row in result.get("results", [])
                if not row["db_name"].startswith("_")
            ],
            str(result.get("last_seq", since)),
        )

    def _snapshot(self) -> dict[str, str]:
        snapshot = {}
        for db in self.list_databases():
            with contextlib.suppress(DatabaseNotFound):  # deleted while we were listing
                snapshot[db] = self.database_info(db).update_seq
        return snapshot
