"""A local HTTP server on a free loopback port, served from a thread, for the tests' stand-ins
of outside services (PayPal's verification endpoint, a Braintree gateway)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testkit.support.kazbill_service import free_port


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class LocalHttpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
