"""A real SMTP server for the tests (aiosmtpd on a free loopback port) that keeps what it
receives and can be told to answer with a temporary or permanent error."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from testkit.support.kazbill_service import free_port


class _Handler:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.answer = "250 Message accepted for delivery"
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            if not self.answer.startswith("250"):
                return self.answer
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.received.append(message)  # type: ignore[arg-type]
        return self.answer


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def answer_with(self, reply: str) -> None:
        self.handler.answer = reply

    @property
    def received(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.received)
