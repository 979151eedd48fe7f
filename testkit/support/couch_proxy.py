"""The base of the tests' HTTP proxies in front of one CouchDB (a cluster's 202s, a node late to
hear of a database, a store gone silent, copies lagging behind the quorum): the URL to give the
store (the target's credentials kept), and each request sent on unless the proxy answers it
itself. A subclass overrides `answer`; None from it ends the connection unanswered."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from testkit.support.local_http import LocalHttpServer, QuietHandler

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
Answer = tuple[int, list, bytes]


def forward(target: tuple[str, int], method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
    """The request sent on to the CouchDB behind, on a connection of its own; its answer."""
    connection = http.client.HTTPConnection(*target, timeout=120)
    try:
        kept = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        connection.request(method, path, body=body or None, headers=kept)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def send_answer(handler: Any, status: int, headers: list, answer: bytes) -> None:
    """The answer to the proxy's client: its status, the end-to-end headers, the body (none to a HEAD)."""
    handler.send_response(status)
    for name, value in headers:
        if name.lower() not in HOP_BY_HOP:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(answer)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(answer)


class CouchProxy(LocalHttpServer):
    def __init__(self, target_url: str):
        super().__init__()
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5984)
        credentials = parts.netloc.rpartition("@")[0]
        self.url = urlunsplit(
            parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}")
        )

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        return forward(self.target, method, path, headers, body)

    def handler(self):
        proxy = self

        class Handler(QuietHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answered = proxy.answer(self.command, self.path, dict(self.headers), body)
                if answered is None:
                    self.close_connection = True  # no answer: the client sees the connection end
                    return
                send_answer(self, *answered)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_COPY = _forward

        return Handler
