"""Figures for the benchmark table. Each benchmark prints its own figures; when it runs under
`python -m bench.all` (KAZBILL_BENCH_RECORD names a file) it also records them here, one JSON
line each, with the store engine it ran on and the name of the reference figure measured in the
same run that it compares to."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.error

from bench.couch_requests import requests_served, server_version


def record(
    name: str, value: float, unit: str, *, reference: str | None = None, higher_is_better: bool = True, store: str = ""
) -> None:
    path = os.environ.get("KAZBILL_BENCH_RECORD")
    if not path:
        return
    line = {
        "name": name,
        "value": round(float(value), 3),
        "unit": unit,
        "reference": reference,
        "higher_is_better": higher_is_better,
        "store": store,
    }
    with open(path, "a", encoding="utf-8") as figures:
        figures.write(json.dumps(line) + "\n")


def store_key(couch: str | None) -> str:
    """The store's part of a figure's name: `embedded`, `couchdb` or `pouchdb` (pouchdb-server)."""
    if not couch:
        return "embedded"
    return "pouchdb" if store_name(couch).startswith("pouchdb") else "couchdb"


def store_name(couch: str | None) -> str:
    """The engine and its version, as the table names it on each row."""
    return f"embedded (SQLite {sqlite3.sqlite_version})" if not couch else server_version(couch)


class RequestMeter:
    """Requests a CouchDB served while a benchmark timed something, less the benchmark's own (its
    polls for the results, made through `own`); None on the embedded store and on a server that
    keeps no request statistics (pouchdb-server)."""

    def __init__(self, couch: str | None, own: object = None):
        self.couch, self.own_requests = couch, 0
        client = getattr(own, "_client", None)
        if couch and client is not None:  # a CouchDbStore: count what it sends
            client.get_http_client().hooks["response"].append(self._count_own)
        try:
            self.start = requests_served(couch) if couch else 0
        except urllib.error.HTTPError as error:  # pouchdb-server keeps no request statistics
            if error.code != 404:
                raise
            self.couch, self.start = None, 0
        self.own_at_start = self.own_requests

    def _count_own(self, response: object, *args: object, **kwargs: object) -> object:
        self.own_requests += 1
        return response

    def spent(self) -> int | None:
        if not self.couch:
            return None
        return requests_served(self.couch) - self.start - (self.own_requests - self.own_at_start)
