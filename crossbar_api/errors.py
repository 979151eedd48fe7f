"""Errors the way crossbar answers them: the HTTP status, `error` as the status code in a string,
a message, and for invalid data the fields by path → rule → message, with the request id, token,
node, version and timestamp every crossbar answer carries. Every error leaves the API in this one
shape, Falcon's own included."""
from __future__ import annotations

import logging
from datetime import timezone
from typing import Any, Mapping

import falcon

log = logging.getLogger("kazbill.api")
API_VERSION = "4.3-kazbill"

STATUS_MESSAGES = {
    400: "invalid data", 401: "invalid credentials", 402: "accept charges", 403: "forbidden",
    404: "bad identifier", 405: "method not allowed", 409: "conflicting documents", 413: "payload too large",
    415: "unsupported media type", 423: "locked", 429: "too many requests", 500: "internal server error",
    503: "service unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, data: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message or STATUS_MESSAGES.get(status, "error"))
        self.status = status
        self.message = message or STATUS_MESSAGES.get(status, "error")
        self.data = dict(data or {})
        self.headers = dict(headers or {})


def invalid(field: str, rule: str, message: str) -> ApiError:
    """400 with one invalid field, as crossbar reports validation errors."""
    return ApiError(400, "invalid data", {field: {rule: {"message": message}}})


def stamp(req: falcon.Request) -> dict[str, Any]:
    """What every answer carries, success or error, as api_util:do_create_resp_envelope writes it
    (applications/crossbar/src/api_util.erl:1628-1651): the request id, the token, the node, the
    version and the moment in ISO 8601 UTC (kz_time:iso8601 of now, so a `Z` and no fraction)."""
    started = getattr(req.context, "started", None)
    return {"request_id": getattr(req.context, "request_id", None),
            "auth_token": getattr(req.context, "token", None) or "",
            "node": getattr(req.context, "node", None),
            "version": API_VERSION,
            "timestamp": None if started is None else started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def body(req: falcon.Request, status: int, message: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": "error", "error": str(status), "message": message, "data": dict(data), **stamp(req)}


def _request_id(req: falcon.Request) -> str | None:
    return getattr(req.context, "request_id", None)


def handle_api_error(req: falcon.Request, resp: falcon.Response, error: ApiError, params: Any) -> None:
    resp.status = falcon.code_to_http_status(error.status)
    resp.media = body(req, error.status, error.message, error.data)
    for name, value in error.headers.items():
        resp.set_header(name, value)


def handle_http_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: Any) -> None:
    code = int(str(error.status).split()[0]) if not isinstance(error.status, int) else error.status
    message = STATUS_MESSAGES.get(code) or (error.title or "error").lower()
    data = {"reason": {"description": {"message": error.description}}} if error.description else {}
    resp.status = falcon.code_to_http_status(code)
    resp.media = body(req, code, message, data)
    for name, value in (error.headers or {}).items():
        resp.set_header(name, value)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    log.exception("request %s failed: %s %s", _request_id(req), req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.media = body(req, 500, "internal server error", {})


def install(app: falcon.App) -> None:
    # Falcon looks handlers up by the most specific class, so the order here does not matter.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(ApiError, handle_api_error)
