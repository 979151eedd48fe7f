"""Crossbar's envelope: requests carry `{"data": ...}`, answers carry the data with the request
id, the token, a timestamp and the version. JSON numbers are read as Decimal, never float."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import falcon

from crossbar_api.errors import API_VERSION, invalid, stamp

__all__ = ["API_VERSION", "answer", "dumps", "read_data", "read_request"]
MAX_BODY_BYTES = 256 * 1024


def read_data(req: falcon.Request) -> dict[str, Any]:
    """The request's `data` object; a clear 400 for anything else, before anything is changed."""
    return read_request(req)["data"]


def read_request(req: falcon.Request) -> dict[str, Any]:
    """The whole request object, whose `data` is an object: crossbar reads a few flags beside
    `data` (cb_ledgers' `impact_reseller`, applications/crossbar/src/modules/cb_ledgers.erl:385)."""
    too_big = invalid("data", "size", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
    if req.content_length and req.content_length > MAX_BODY_BYTES:
        raise too_big
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise too_big
    if not raw.strip():
        raise invalid("data", "required", "the request needs a body {\"data\": {...}}")
    try:
        document = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid("data", "json", f"the body is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise invalid("data", "type", "the body must be an object with a \"data\" object")
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def dumps(value: Any) -> str:
    """JSON text in which a Decimal is written with its exact digits (12.5 stays 12.5: the
    standard encoder would only take floats, and a float would round)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("money is always a finite number")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(key), ensure_ascii=False)}:{dumps(item)}"
                              for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def answer(req: falcon.Request, resp: falcon.Response, data: Any, *, status: int = 200,
           revision: str | None = None, **extra: Any) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = falcon.MEDIA_JSON
    resp.text = dumps({"data": data, "status": "success", "revision": revision or "undefined", **stamp(req), **extra})
