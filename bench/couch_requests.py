"""How many HTTP requests a CouchDB has served, summed over its cluster's nodes: the
machine-independent cost of a billed event (ARCHITECTURE.md, "The cost of a billed event").
A benchmark reads it before and after what it times and prints requests per event beside the
rate, so that a change which saves round trips shows even on a noisy machine."""

from __future__ import annotations

import json
import urllib.request
from base64 import b64encode
from urllib.parse import quote, unquote, urlsplit, urlunsplit


def _get(url: str, path: str) -> object:
    parts = urlsplit(url)
    base = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], path="", query="", fragment=""))
    request = urllib.request.Request(base + path, headers={"Accept": "application/json"})
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        request.add_header("Authorization", "Basic " + b64encode(pair).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def requests_served(url: str) -> int:
    """Requests served so far by every node of the CouchDB at `url` (its own stats)."""
    membership = _get(url, "/_membership")
    nodes = membership.get("cluster_nodes") if isinstance(membership, dict) else None
    total = 0
    for node in nodes or ["_local"]:
        stats = _get(url, f"/_node/{quote(node, safe='')}/_stats/couchdb/httpd/requests")
        total += int(stats["value"]) if isinstance(stats, dict) else 0
    return total


def server_version(url: str) -> str:
    """'CouchDB 3.4.3', or the vendor and version another CouchDB-compatible server names."""
    welcome = _get(url, "/")
    if not isinstance(welcome, dict):
        return "unknown"
    vendor = next((key for key, value in welcome.items() if str(value).startswith("Welcome")), "unknown")
    name = {"couchdb": "CouchDB", "express-pouchdb": "pouchdb-server"}.get(vendor, vendor)
    return f"{name} {welcome.get('version', '')}".strip()
