"""Plain HTTP to a CouchDB for the test support (starting, joining, probing servers), with the
standard library only: what the suite tests goes through the adapter instead."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any


def _auth_header(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def http(
    method: str, url: str, auth: tuple[str, str] | None = None, body: Any = None, timeout_s: float = 10.0
) -> tuple[int, Any]:
    """(status, decoded JSON body or None); connection failures raise OSError."""
    headers = {"Accept": "application/json", **(_auth_header(*auth) if auth else {})}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def answers_up(base: str) -> bool:
    try:
        return http("GET", f"{base}/_up", timeout_s=2)[0] == 200
    except OSError:
        return False
