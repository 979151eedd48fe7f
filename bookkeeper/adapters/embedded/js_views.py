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
var __maps = {}, __names = [];
// Each level of the document frozen as it is parsed: one pass, where a walk after the parse was
// as long again as the parse itself.
function __frozen(key, value) { return value !== null && typeof value === "object" ? Object.freeze(value) : value; }
function __text(value) { var text = JSON.stringify(value); return text === undefined ? "null" : text; }
// A document's rows as lines "view number TAB key TAB value", each key and value as JSON text,
// and "!view number TAB message as JSON" for a map that threw. JSON text never holds a raw tab,
// line feed or form feed (JSON.stringify escapes them), so no second encoding of the texts is
// needed: stringifying the rows again, texts inside, cost more than the maps.
function __mapped(doc) {
  var lines = [];
  for (var v = 0; v < __names.length; v++) {
    __rows = [];
    try { __maps[__names[v]](doc); } catch (error) {
      lines.push("!" + v + "\\t" + JSON.stringify(String(error)));
      continue;
    }
    for (var i = 0; i < __rows.length; i++) lines.push(v + "\\t" + __text(__rows[i][0]) + "\\t" + __text(__rows[i][1]));
  }
  return lines.join("\\n");
}
function __run(docsText) {
  var docs = JSON.parse(docsText, __frozen), results = [];
  for (var i = 0; i < docs.length; i++) results.push(__mapped(docs[i]));
  return results.join("\\f");
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
                self._context.eval(f"__maps[{json.dumps(name)}] = ({source}); __names.push({json.dumps(name)});")
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
                results: list[str] | None = self._run(f"[{','.join(text for _, text in docs)}]").split("\f")
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
        return self._read(docs, results)

    def _read(self, docs: Sequence[tuple[str, str]], results: list[str]) -> list[MappedDocument]:
        """The engine's lines (see __mapped) as each document's rows; every key and value of the
        batch parsed in one call."""
        mapped: list[MappedDocument] = []
        emitted: list[tuple[list[tuple[Any, Any, str, str]], str, str]] = []  # (its view's rows, key, value)
        for (doc_id, _), result in zip(docs, results, strict=True):
            one = MappedDocument({name: [] for name in self.view_names}, {})
            for line in result.split("\n") if result else ():
                view, *texts = line.split("\t")
                if view[0] == "!":
                    name, reason = self.view_names[int(view[1:])], json.loads(texts[0])
                    log.warning("%s/%s: map threw on document %r: %s", self.design_id, name, doc_id, reason)
                    one.errors[name] = reason
                else:
                    emitted.append((one.rows[self.view_names[int(view)]], texts[0], texts[1]))
            mapped.append(one)
        parsed = json.loads(f"[{','.join(f'[{key},{value}]' for _, key, value in emitted)}]")
        for (rows, key_text, value_text), (key, value) in zip(emitted, parsed, strict=True):
            rows.append((key, value, key_text, value_text))
        return mapped
