"""PayPal's IPN verification postback over HTTPS (requests). PayPal requires a User-Agent and
answers the one word VERIFIED or INVALID in a 200; anything else means "ask again later"."""

from __future__ import annotations

import requests

from bookkeeper.ports import GatewayUnavailable


class HttpIpnVerifier:
    def __init__(self, timeout_s: float = 20.0):
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "Kazbill-IPN-Verifier"
        self._timeout_s = timeout_s

    def verify(self, url: str, body: bytes) -> str:
        try:
            answer = self._session.post(
                url, data=body, timeout=self._timeout_s, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        except requests.RequestException as error:
            raise GatewayUnavailable(f"PayPal verification at {url} unreachable: {error}") from None
        if answer.status_code != 200:
            raise GatewayUnavailable(f"PayPal verification at {url} answered {answer.status_code}")
        verdict = answer.text.strip()
        if verdict not in ("VERIFIED", "INVALID"):
            raise GatewayUnavailable(f"PayPal verification at {url} answered {verdict[:40]!r}")
        return verdict
