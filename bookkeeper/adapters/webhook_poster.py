"""POSTing webhook deliveries over HTTP (requests): a short timeout, no redirects followed (a
receiver that moved says so with its status, which is a failure to retry), and, unless allowed,
no address on the machine's own networks: a reseller's URL must not reach the services beside
Kazbill (CouchDB, RabbitMQ, a cloud's metadata address). The name is resolved here and every
address it resolves to is checked; the request then goes to the name as resolved by requests, so
a DNS answer that changes in between is the only gap (closed by allowing no private names at
the resolver, not here)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests

from bookkeeper.ports import WebhookUnreachable

TIMEOUT_S = 10.0


class HttpWebhookPoster:
    def __init__(self, *, allow_private: bool = False, timeout_s: float = TIMEOUT_S):
        self.allow_private, self.timeout_s = allow_private, timeout_s

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if not self.allow_private:
            _refuse_private(url)
        try:
            response = requests.post(url, data=body, headers=headers, timeout=self.timeout_s, allow_redirects=False)
        except requests.RequestException as error:
            raise WebhookUnreachable(f"{type(error).__name__}: {error}") from None
        return response.status_code


def _refuse_private(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as error:
        raise WebhookUnreachable(f"cannot resolve {host}: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise WebhookUnreachable(f"{host} resolves to {address}, which is not a public address")
