"""Running a design document's JavaScript map functions in-process, with QuickJS.

The map functions in couch_views/ are the very source CouchDB runs; QuickJS (a small,
complete ES2020 engine with a Python binding) runs them here, so there is one view language and
one source of truth. Documents go in and rows come out as JSON text, which keeps integers
integers on the Python side. Like CouchDB, each map function gets the document deeply frozen
(CouchDB seals it: an in-place `features.sort()` throws there, and silently dropped every row of
a document on real CouchDB while passing here), and a map function that throws on one document
skips that document's rows for that view and the index goes on; the error is handed back so the
store can record it for the operator.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import quickjs

from bookkeeper.ports import InvalidQuery

log = logging.getLogger(__name__)

# CouchDB's map-time helpers: emit, log, sum, isArray, toJSON.
_PRELUDE = """
var __rows = null;
function emit(key, value) {
  __rows.push([key === undefined ? null : key, value === undefined ? null : value]);
}
function log(message) { __log.push(String(message)); }
var __log = [];
function sum(values) { var t = 0; for (var i = 0; i < values.length; i++) t += values[i]; return t; }
function isArray(value) { return Array.isArray(value); }
function toJSON(value) { return JSON.stringify(value); }
var __maps = {};
function __freeze(value) {
  if (value !== null && typeof value === "object") {
    Object.freeze(value);
    for (var name in value) __freeze(value[name]);
  }
  return value;
}
function __run(docText) {
  var doc = __freeze(JSON.parse(docText)), out = {}, failed = {};
  for (var name in __maps) {
    __rows = [];
    try { __maps[name](doc); out[name] = __rows; }
    catch (error) { failed[name] = String(error); out[name] = []; }
  }
  return JSON.stringify({rows: out, failed: failed});
}
"""


@dataclass(frozen=True)
class MappedDocument:
    rows: dict[str, list[tuple[Any, Any]]]  # view name -> (key, value) pairs
    errors: dict[str, str]  # view name -> what the map function threw


MAP_TIME_LIMIT_S = 2  # a runaway map function stops the index, not the process


class DesignDocViews:
    """The compiled map functions of one design document (shared by every database that holds
    the same design document: they are compiled once per content signature)."""

    def __init__(self, design_id: str, views: Mapping[str, Mapping[str, Any]]):
        self.design_id = design_id
        self.view_names = sorted(views)
        self._lock = threading.Lock()
        self._context = quickjs.Context()
        self._context.set_time_limit(MAP_TIME_LIMIT_S)
        self._context.eval(_PRELUDE)
        for name in self.view_names:
            source = views[name].get("map")
            if not isinstance(source, str):
                raise InvalidQuery(f"{design_id}/_view/{name}: the view has no map function")
            try:
                self._context.eval(f"__maps[{json.dumps(name)}] = ({source});")
            except quickjs.JSException as error:
                raise InvalidQuery(f"{design_id}/_view/{name}: map function does not compile: {error}") from None
        self._run = self._context.get("__run")

    def map_document(self, doc: Mapping[str, Any]) -> MappedDocument:
        """The rows each view emits for one document, and the views whose map threw on it."""
        with self._lock:
            try:
                result = json.loads(self._run(json.dumps(doc, separators=(",", ":"))))
            except quickjs.JSException as error:
                log.warning("%s: map stopped on document %r: %s", self.design_id, doc.get("_id"), error)
                return MappedDocument(
                    {name: [] for name in self.view_names}, {name: str(error) for name in self.view_names}
                )
        for name, reason in result["failed"].items():
            log.warning("%s/%s: map threw on document %r: %s", self.design_id, name, doc.get("_id"), reason)
        return MappedDocument(
            {name: [tuple(row) for row in rows] for name, rows in result["rows"].items()}, dict(result["failed"])
        )
