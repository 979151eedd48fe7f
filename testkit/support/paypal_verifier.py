"""A stand-in for PayPal's IPN verification endpoint, on a free loopback port: it answers
VERIFIED for the notifications "PayPal sent" (registered with `sent`), INVALID for anything
else, and can be taken down (503). It keeps every postback it received, to check they were the
original bytes behind `cmd=_notify-validate&`."""

from __future__ import annotations

import threading

from testkit.support.local_http import LocalHttpServer, QuietHandler

PREFIX = b"cmd=_notify-validate&"


class PayPalVerifier(LocalHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.genuine: set[bytes] = set()
        self.postbacks: list[bytes] = []
        self.down = False
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/webscr"

    def sent(self, body: bytes) -> bytes:
        """Mark a body as one PayPal really sent; returns it."""
        with self._lock:
            self.genuine.add(body)
        return body

    def handler(self) -> type[QuietHandler]:
        verifier = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with verifier._lock:
                    verifier.postbacks.append(body)
                    down = verifier.down
                    verdict = (
                        b"VERIFIED"
                        if body.startswith(PREFIX) and body[len(PREFIX) :] in verifier.genuine
                        else b"INVALID"
                    )
                self.send_response(503 if down else 200)
                self.send_header("Content-Length", str(0 if down else len(verdict)))
                self.end_headers()
                if not down:
                    self.wfile.write(verdict)

        return Handler
