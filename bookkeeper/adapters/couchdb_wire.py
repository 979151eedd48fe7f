"""The wire under IBM's CouchDB SDK: plain-HTTP requests over kept-alive connections (the
standard library's `http.client`), answered as `requests` responses.

Connections are pooled (idle ones kept per server, at most IDLE_KEPT): a thread takes one for a
request and gives it back, so a thread that ends (a batch's pool of passes) leaves nothing open.

Why: measured on this machine against CouchDB 3.4.3 on loopback, a document GET through the SDK
and `requests` costs the client 1.1-1.2 ms of CPU (a fifth of it reading every environment
variable twice for proxy settings), the same GET over `http.client` 0.2 ms. A billed call costs a
dozen store requests, and Kazbill shares its cores with CouchDB, so the client's share is most of
the cost. The SDK still prepares every request (paths, parameters, authentication) and reads
every answer (errors, JSON); only the sending changes. Whatever this path does not handle goes
through `requests` as before: HTTPS (its certificate settings), proxies named in the environment,
streamed answers, cookies, multipart or streamed bodies.
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.hooks import dispatch_hook
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies

IDEMPOTENT = ("GET", "HEAD")  # sent again once when a kept connection turns out closed
REDIRECTS = (301, 302, 303, 307, 308)
IDLE_KEPT = 16  # idle connections kept per server: a shard's passes at once, a gunicorn worker's threads


class KeptAliveSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self._idle: dict[str, list[http.client.HTTPConnection]] = {}  # per server, the newest last
        self._lock = threading.Lock()
        self._proxied: dict[str, bool] = {}

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Mapping[str, Any] | None = None,
        cookies: Any = None,
        files: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        parts = urlsplit(url)
        plain = (
            parts.scheme == "http"
            and not files
            and not kwargs.get("stream")
            and kwargs.get("json") is None
            and kwargs.get("auth") is None
            and not kwargs.get("proxies")
            and not (cookies and len(cookies))
            and not len(self.cookies)
            and isinstance(data, (str, bytes, type(None)))
            and isinstance(params, (Mapping, type(None)))
            and not self._is_proxied(parts.scheme, parts.netloc)
        )
        if not plain:
            return super().request(method, url, params, data, headers, cookies, files, **kwargs)
        target = parts.path or "/"
        query = "&".join(part for part in (parts.query, urlencode(params or {}, doseq=True)) if part)
        if query:
            target += "?" + query
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        sent = {name: value for name, value in merged.items() if value is not None}
        body = data.encode("utf-8") if isinstance(data, str) else data
        connect_s, read_s = _timeouts(kwargs.get("timeout"))
        for attempt in (1, 2):
            connection, reused = self._take(parts.netloc, connect_s)
            try:
                connection.timeout = read_s
                if connection.sock is not None:
                    connection.sock.settimeout(read_s)
                connection.request(method, target, body=body, headers=sent)
                answer = connection.getresponse()
                content = answer.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                connection.close()
                if reused and attempt == 1 and method.upper() in IDEMPOTENT:
                    continue  # the server had closed the kept connection: once more on a new one
                raise requests.ConnectionError(str(error) or type(error).__name__) from None
            except TimeoutError as error:
                connection.close()
                raise requests.ReadTimeout(f"no answer within {read_s} s") from error
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise requests.ConnectionError(str(error) or type(error).__name__) from None
            except BaseException:  # half a request on it: never handed out again
                connection.close()
                raise
            if answer.will_close:
                connection.close()
            else:
                self._give_back(parts.netloc, connection)
            if answer.status in REDIRECTS and method.upper() in IDEMPOTENT and kwargs.get("allow_redirects", True):
                # Followed as `requests` follows it (CouchDB sends a GET of `_design%2Fx` to `_design/x`);
                # any further hop is `requests`' own, within its limit.
                moved_to = urljoin(url, answer.getheader("Location") or "")
                return super().request(method, moved_to, None, data, headers, cookies, files, **kwargs)
            return self._response(method, url, sent, answer, content, kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
        super().close()

    # ------------------------------------------------------------------ connections

    def _take(self, netloc: str, connect_s: float | None) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to the server the server has not closed, else a new one."""
        while True:
            with self._lock:
                idle = self._idle.get(netloc)
                connection = idle.pop() if idle else None
            if connection is None:
                break
            if connection.sock is not None and not _closed_by_peer(connection.sock):
                return connection, True
            connection.close()
        connection = http.client.HTTPConnection(netloc.rpartition("@")[2], timeout=connect_s)
        try:
            connection.connect()
        except TimeoutError as error:
            raise requests.ConnectTimeout(f"no connection within {connect_s} s") from error
        except OSError as error:
            raise requests.ConnectionError(str(error)) from None
        return connection, False

    def _give_back(self, netloc: str, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(netloc, [])
            if len(idle) < IDLE_KEPT:
                idle.append(connection)
                return
        connection.close()  # more threads than are usually busy at once asked meanwhile

    def _is_proxied(self, scheme: str, netloc: str) -> bool:
        """Whether the environment names a proxy for this server (read once per server, not on
        every request as `requests` does)."""
        if netloc not in self._proxied:
            self._proxied[netloc] = bool(get_environ_proxies(f"{scheme}://{netloc}/")) if self.trust_env else False
        return self._proxied[netloc]

    def _response(
        self,
        method: str,
        url: str,
        headers: dict[str, Any],
        answer: http.client.HTTPResponse,
        content: bytes,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = CaseInsensitiveDict(answer.getheaders())
        response.url = url
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response._content_consumed = True
        sent = requests.PreparedRequest()  # what the SDK's error hook reads (the method), unparsed
        sent.method, sent.url, sent.headers = method.upper(), url, CaseInsensitiveDict(headers)
        response.request = sent
        return dispatch_hook("response", self.hooks, response, **kwargs)


def _timeouts(timeout: Any) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


def _closed_by_peer(sock: Any) -> bool:
    """An idle kept connection the server closed reads as ready (its end of file). poll, not
    select: a busy process's descriptors go past select's 1024."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
