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
from collections.abc import Mapping, Sequence
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
function __mapped(doc) {
  var out = {}, failed = {};
  for (var name in __maps) {
    __rows = [];
    try { __maps[name](doc); } catch (error) { failed[name] = String(error); __rows = []; }
    // Each row also as JSON text, what the index stores: no second encoding on the Python side.
    for (var i = 0; i < __rows.length; i++) {
      var key = __rows[i][0], value = __rows[i][1];
      __rows[i] = [key, value, __text(key), __text(value)];
    }
    out[name] = __rows;
  }
  return {rows: out, failed: failed};
}
function __text(value) { var text = JSON.stringify(value); return text === undefined ? "null" : text; }
function __run(docsText) {
  var docs = JSON.parse(docsText), results = [];
  for (var i = 0; i < docs.length; i++) results.push(__mapped(__freeze(docs[i])));
  return JSON.stringify(results);
}
"""


@dataclass(frozen=True)
class MappedDocument:
    # view name -> (key, value, key as JSON text, value as JSON text) for each emitted row
    rows: dict[str, list[tuple[Any, Any, str, str]]]
    errors: dict[str, str]  # view name -> what the map function threw


MAP_BATCH = 100  # documents handed to the map functions in one call


def _quoted(text: str) -> str:
    """A JSON string; most ids need no escaping, and json.dumps weighed on a refresh."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def document_text(doc_id: str, rev: str, body: str) -> str:
    """The document as its map functions see it, as JSON text: the stored body (compact JSON
    without the special members) with its id and revision in front."""
    head = f'{{"_id":{_quoted(doc_id)},"_rev":{_quoted(rev)}'
    return head + "}" if body == "{}" else f"{head},{body[1:]}"


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
        return self.map_documents([(str(doc.get("_id")), json.dumps(doc, separators=(",", ":")))])[0]

    def map_documents(self, docs: Sequence[tuple[str, str]]) -> list[MappedDocument]:
        """map_document for documents given as (id, JSON text), several in one call into the
        engine: a call and its JSON round trip weighed more than most map functions. A call
        stopped whole (the time limit) is made again a document at a time, so that only the
        document a map ran away on loses its rows."""
        with self._lock:
            try:
                results = json.loads(self._run(f"[{','.join(text for _, text in docs)}]"))
            except quickjs.JSException as error:
                if len(docs) > 1:
                    results = None
                else:
                    log.warning("%s: map stopped on document %r: %s", self.design_id, docs[0][0], error)
                    return [
                        MappedDocument(
                            {name: [] for name in self.view_names}, dict.fromkeys(self.view_names, str(error))
                        )
                    ]
        if results is None:
            return [mapped for doc in docs for mapped in self.map_documents([doc])]
        mapped = []
        for (doc_id, _), result in zip(docs, results, strict=True):
            for name, reason in result["failed"].items():
                log.warning("%s/%s: map threw on document %r: %s", self.design_id, name, doc_id, reason)
            rows = {name: [tuple(row) for row in emitted] for name, emitted in result["rows"].items()}
            mapped.append(MappedDocument(rows, dict(result["failed"])))
        return mapped
