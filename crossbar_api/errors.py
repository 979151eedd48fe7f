"""Errors the way crossbar answers them: the HTTP status, `error` as the status code in a string,
a message, and for invalid data the fields by path → rule → message, with the request id, token,
node, version and timestamp every crossbar answer carries. Every error leaves the API in this one
shape, Falcon's own included."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC
from decimal import DecimalException
from typing import Any

import falcon

from bookkeeper import come_back_later
from bookkeeper.ports import Conflict, InvalidDocument

log = logging.getLogger("kazbill.api")
API_VERSION = "4.3-kazbill"
# What only reading input can raise: a value too deep, too large or not text. The edge parses
# every body and parameter into types first (envelope.py, fields.py), so one of these reaching
# the handler below is input that slipped past a check, and the caller's to fix, not a crash.
PARSING_ERRORS = (RecursionError, DecimalException, UnicodeError, OverflowError)

STATUS_MESSAGES = {
    400: "invalid data",
    401: "invalid credentials",
    402: "accept charges",
    403: "forbidden",
    404: "bad identifier",
    405: "method not allowed",
    409: "conflicting documents",
    413: "payload too large",
    415: "unsupported media type",
    423: "locked",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
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
    return {
        "request_id": getattr(req.context, "request_id", None),
        "auth_token": getattr(req.context, "token", None) or "",
        "node": getattr(req.context, "node", None),
        "version": API_VERSION,
        "timestamp": None if started is None else started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def body(req: falcon.Request, status: int, message: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": "error",
        "error": str(status),
        "message": _printable(message),
        "data": _printable_data(data),
        **stamp(req),
    }


def _printable_data(value: Any) -> Any:
    """An error names what the caller sent, and the answer must still encode as UTF-8."""
    if isinstance(value, Mapping):
        return {_printable(str(key)): _printable_data(item) for key, item in value.items()}
    if isinstance(value, str):
        return _printable(value)
    return value


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
    for name, value in dict(error.headers or {}).items():
        resp.set_header(name, value)


def handle_store_unavailable(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    """ "Come back later" (bookkeeper/come_back_later.py): CouchDB unreachable or the embedded file
    locked by another process past its busy timeout (bookkeeper/adapters/embedded/store.py). The
    write that met it was not made; the caller repeats the request (with the same Idempotency-Key
    where it takes one), which is no server fault and worth no 500. The payments page is read in
    a browser: it is told in a page of its own, in both of its languages."""
    log.warning("request %s: store unavailable: %s", _request_id(req), getattr(error, "reason", error))
    resp.status = falcon.code_to_http_status(come_back_later.STATUS)
    for name, value in come_back_later.HEADERS.items():
        resp.set_header(name, value)
    if req.path == "/portal" or req.path.startswith("/portal/"):
        resp.content_type = "text/html; charset=utf-8"
        resp.set_header("Cache-Control", "no-store")
        resp.text = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>503</title></head><body>'
            f'<p lang="ru">{come_back_later.MESSAGE_RU}</p><p lang="en">{come_back_later.MESSAGE}</p>'
            f"</body></html>"
        )
        return
    resp.media = body(
        req,
        come_back_later.STATUS,
        "service unavailable",
        {"store": {"available": {"message": come_back_later.MESSAGE}}},
    )


def handle_invalid_document(req: falcon.Request, resp: falcon.Response, error: InvalidDocument, params: Any) -> None:
    """The store refused a value a request brought to it (both adapters check before writing, so
    that write was not made). Logged with its trace: a value the edge should have refused, or
    one the server itself built wrong, shows there."""
    log.warning("request %s: the store refused %s: %s", _request_id(req), error.field, error.reason, exc_info=error)
    resp.status = falcon.HTTP_400
    resp.media = body(req, 400, "invalid data", {error.field: {"store": {"message": error.reason}}})


def handle_parsing_error(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    # Logged with its trace, since it means a check at the edge is missing; answered without it.
    log.warning("request %s: unparsed input reached %s %s", _request_id(req), req.method, req.path, exc_info=error)
    resp.status = falcon.HTTP_400
    resp.media = body(
        req,
        400,
        "invalid data",
        {"data": {"value": {"message": f"a value could not be read ({type(error).__name__})"}}},
    )


def _printable(text: str) -> str:
    """Text that can be written as UTF-8: a refused field's name may be the caller's own bytes."""
    return text.encode("utf-8", "replace").decode("utf-8")


def handle_conflict(req: falcon.Request, resp: falcon.Response, error: Conflict, params: Any) -> None:
    """A document the request writes was written by someone else meanwhile (a second request, a
    billing pass, on a cluster a rival write that stood): nothing of this request's write stands,
    and the caller may read again and repeat it. Resources that can say more catch it themselves."""
    log.info("request %s: write conflict on %s", _request_id(req), error)
    resp.status = falcon.HTTP_409
    resp.media = body(
        req,
        409,
        "conflict",
        {
            "document": {
                "conflict": {
                    "message": (
                        "the document was changed by someone else meanwhile; read it again and repeat the request"
                    )
                }
            }
        },
    )


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    log.exception("request %s failed: %s %s", _request_id(req), req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.media = body(req, 500, "internal server error", {})


def install(app: falcon.App) -> None:
    # Falcon looks handlers up by the most specific class, so the order here does not matter.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(ApiError, handle_api_error)
    for later in come_back_later.FOR_THE_API:
        app.add_error_handler(later, handle_store_unavailable)
    app.add_error_handler(Conflict, handle_conflict)
    app.add_error_handler(InvalidDocument, handle_invalid_document)
    for error in PARSING_ERRORS:
        app.add_error_handler(error, handle_parsing_error)
