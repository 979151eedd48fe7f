"""CouchDB over HTTP, the plumbing the store adapter is built on: IBM's maintained SDK
(`ibmcloudant`) with a per-call read timeout, and the server's answers mapped onto the port's
errors. Where this reaches past the SDK's generated methods, or second-guesses the server's
answer, a comment says which quirk forced it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import BasicAuthenticator, NoAuthAuthenticator
from ibmcloudant.cloudant_v1 import CloudantV1
from urllib3.exceptions import ReadTimeoutError

from bookkeeper.adapters.couchdb_wire import KeptAliveSession
from bookkeeper.config import mask_url_password
from bookkeeper.ports import (
    Conflict,
    DatabaseExists,
    DatabaseNotFound,
    InvalidDatabaseName,
    InvalidDocument,
    InvalidQuery,
    NotFound,
    ServerInfo,
    StoreError,
    StoreUnavailable,
)

DESIGN = "_design/"
# CouchDB 3 and pouchdb-server word "no such database" differently from "no such document".
_NO_DB_REASONS = {"Database does not exist.", "no_db_file"}
_LONGPOLL_GRACE_S = 1.0
NO_DB_UPDATES = (400, 404, 405, 501)  # pouchdb-server answers 400 to _db_updates (and _membership)


class LongpollExpired(Exception):
    """A longpoll that ended without news (the client's read timeout, not an error)."""


class _Client(CloudantV1):
    """CloudantV1 taking a per-call read timeout.

    BaseService.send lets `http_config` override per-call kwargs, and post_changes' own
    `timeout` parameter (the longpoll wait, in ms) shadows requests' `timeout`: so http_config
    stays empty and the read timeout travels as `read_timeout_s`."""

    def __init__(self, authenticator: Any, timeout_s: float):
        super().__init__(authenticator=authenticator)
        self.set_http_config({})
        self.timeout_s = timeout_s

    def send(self, request: Any, read_timeout_s: float | None = None, **kwargs: Any) -> Any:
        kwargs["timeout"] = (self.timeout_s, read_timeout_s or self.timeout_s)
        return super().send(request, **kwargs)


def _is_read_timeout(error: BaseException) -> bool:
    # Once the headers are in, requests reports a slow body as ConnectionError(ReadTimeoutError).
    return isinstance(error, requests.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in getattr(error, "args", ())
    )


def _short_reason(error: BaseException, timeout_s: float) -> str:
    text = str(error)
    if _is_read_timeout(error):
        return f"no answer within {timeout_s:g} s"
    if "Connection refused" in text:
        return "connection refused"
    if any(word in text for word in ("not known", "name resolution", "nodename")):
        return "unknown host"
    return f"connection failed ({type(error).__name__})"


def _tolerant(hook: Any) -> Any:
    """The SDK's error hook expects every JSON error body to be an object; a cluster that lost a
    node answers `_bulk_docs` with 500 and a list, and the hook would crash on it."""

    def hook_or_nothing(response: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return hook(response, *args, **kwargs)
        except (AttributeError, TypeError):
            return None  # the response as it came; _reason reads it

    return hook_or_nothing


def _reason(error: ApiException) -> str:
    try:
        body = error.http_response.json()
    except (AttributeError, ValueError):
        body = None
    body = body if isinstance(body, dict) else {}
    return str(body.get("reason") or body.get("error") or error.message or "")


class CouchHttp:
    """The connection, and requests sent through it with their failures mapped."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None, timeout_s: float = 30.0):
        parts = urlsplit(url)
        if parts.username is not None:
            username = username or unquote(parts.username)
            password = password if password is not None else unquote(parts.password or "")
        self.location = mask_url_password(url.rstrip("/"))
        auth = BasicAuthenticator(username, password or "") if username else NoAuthAuthenticator()
        self._client = _Client(auth, timeout_s)
        wire = KeptAliveSession()  # couchdb_wire.py: the SDK's requests, sent for a fifth of the CPU
        for prefix in ("http://", "https://"):
            wire.mount(prefix, self._client.http_adapter)  # what goes through requests still uses the SDK's adapter
        self._client.set_http_client(wire)
        netloc = parts.netloc.rpartition("@")[2]  # the credentials went to the authenticator
        self._client.set_service_url(urlunsplit(parts._replace(netloc=netloc)))
        # pouchdb-server gzips (and so buffers) feeds for gzip-accepting clients, and answers
        # text/plain unless asked for JSON, which the SDK does not do for _local documents.
        # Session headers are fallbacks: the SDK's per-call Accept (attachments: */*) still wins.
        self._client.get_http_client().headers.update({"Accept-Encoding": "identity", "Accept": "application/json"})
        hooks = self._client.get_http_client().hooks["response"]
        hooks[:] = [_tolerant(hook) for hook in hooks]
        self._vendor: str | None = None

    def _call(self, op: str, **params: Any) -> Any:
        """Run an SDK operation by name; map its failures onto the port's errors."""
        return self._call_status(op, **params)[0]

    def _call_status(
        self,
        op: str,
        *,
        err_db: str | None = None,
        err_id: str | None = None,
        kind: str = "document",
        longpoll_s: float | None = None,
        **params: Any,
    ) -> tuple[Any, int]:
        """`_call`, with the HTTP status: a cluster's 202 is not a 201 (couchdb_accepted.py)."""
        db, doc_id = err_db or params.get("db"), err_id or params.get("doc_id")
        if longpoll_s is not None:
            params["read_timeout_s"] = longpoll_s + _LONGPOLL_GRACE_S
        try:
            response = getattr(self._client, op)(**params)
            return response.get_result(), response.get_status_code()
        except ApiException as error:
            mapped = self._map_error(error.status_code, db, doc_id, kind, _reason(error))
            mapped.http_status = error.status_code
            raise mapped from None
        except requests.RequestException as error:
            if longpoll_s is not None and _is_read_timeout(error):
                raise LongpollExpired() from None
            raise StoreUnavailable(self.location, _short_reason(error, self._client.timeout_s)) from None

    def _send(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """For what the generated methods cannot say; the SDK still authenticates and sends."""
        headers = {} if body is None else {"Content-Type": "application/json"}
        request = self._client.prepare_request(
            method, path, headers=headers, data=None if body is None else json.dumps(body)
        )
        return self._call("send", request=request, **kw)

    def _map_error(self, status: int, db: str | None, doc_id: str | None, kind: str, reason: str) -> StoreError:
        if status == 404 and db is not None:
            if reason in _NO_DB_REASONS or doc_id is None:
                return DatabaseNotFound(db)
            return NotFound(db, doc_id or "?", kind)
        if status == 409 and db is not None:
            return Conflict(db, doc_id or "?")
        if status == 500 and kind == "document" and db is not None and reason == "conflict":
            # A cluster's answer to the loser of two writes racing through different nodes
            # (seen in the 202 numbering race): the write did not stand, like a 409.
            return Conflict(db, doc_id or "?")
        if status == 412 and kind == "database" and db is not None:
            return DatabaseExists(db)  # any other 412 (a cluster losing a node) is not about the name
        if status == 400 and kind in ("view", "feed"):
            return InvalidQuery(f"query on database {db!r} refused: {reason}")
        if status == 400 and kind == "database":
            return InvalidDatabaseName(str(db), reason)
        if status in (400, 403, 413) and db is not None:  # incl. validate_doc_update refusals
            return InvalidDocument(db, "(document)", reason)
        if status in (401, 403):
            return StoreUnavailable(self.location, f"not authorized ({status}): {reason}")
        return StoreUnavailable(self.location, f"HTTP {status}: {reason or 'no reason given'}")

    def _json(self, result: Any) -> Any:
        if not isinstance(result, (dict, list)):
            raise StoreUnavailable(self.location, "answered something that is not JSON")
        return result

    def server_info(self) -> ServerInfo:
        welcome = self._json(self._call("get_server_information"))
        # {"couchdb": "Welcome", ...}; pouchdb-server: {"express-pouchdb": "Welcome!", ...}
        vendor = next((k for k, v in welcome.items() if str(v).startswith("Welcome")), None)
        vendor = vendor or str((welcome.get("vendor") or {}).get("name", "unknown"))
        return ServerInfo(
            "couchdb", vendor, str(welcome.get("version", "")), self.location, tuple(welcome.get("features") or ())
        )

    def _vendor_name(self) -> str:
        if self._vendor is None:
            self._vendor = self.server_info().vendor
        return self._vendor

    def close(self) -> None:
        self._client.get_http_client().close()
