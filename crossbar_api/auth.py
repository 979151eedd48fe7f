"""Who is calling: Kazoo's two ways in (a user's md5/sha1 credentials with an account name or
realm, or an account's API key), signed expiring tokens that name the credentials they were
issued for (so that `crossbar_api.sessions` can tell when those changed), and a limit on failed
attempts per client address, kept in the worker's memory (the per-account limit that guessing
from many addresses meets is `crossbar_api.login_throttle`, shared through the store)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Caller:
    account_id: str
    user_id: str | None  # None when authenticated by the account's API key
    is_admin: bool
    is_superduper: bool  # a super-duper admin of the master account acts on every account
    method: str  # "user_auth" or "api_auth"
    # A keyed digest of the secret the caller logged in with (the user's password hashes, or the
    # account's API key): a token whose digest no longer matches was issued for old credentials.
    credential_version: str = ""


@dataclass(frozen=True)
class TokenClaims:
    caller: Caller
    token_id: str  # what logout revokes
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Tokens are `payload.signature`: the caller and an expiry, HMAC-SHA256 signed. Nothing is
    stored, so any API worker verifies a token any other issued, given the same secret."""

    def __init__(self, secret: bytes, ttl_s: float):
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret
        self.ttl_s = ttl_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def credential_version(self, *secrets_held: object) -> str:
        """Keyed, so that a token (whose payload anyone holding it can read) tells nothing about
        the password hashes or the key it stands for."""
        text = json.dumps(list(secrets_held), sort_keys=True, default=str)
        return _b64(hmac.new(self._secret, b"credentials:" + text.encode(), hashlib.sha256).digest()[:12])

    def issue(self, caller: Caller, now: float) -> str:
        claims = {**asdict(caller), "exp": int(now + self.ttl_s), "jti": secrets.token_urlsafe(12)}
        payload = _b64(json.dumps(claims, sort_keys=True).encode())
        return f"{payload}.{self._sign(payload)}"

    def claims(self, token: str, now: float) -> TokenClaims | None:
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
            expires, token_id = claims.pop("exp"), claims.pop("jti")
            caller = Caller(**claims)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        if not isinstance(expires, int) or not isinstance(token_id, str) or now >= expires:
            return None
        return TokenClaims(caller, token_id, expires)

    def verify(self, token: str, now: float) -> Caller | None:
        """The caller a token was signed for, if unexpired; whether it still speaks for them is
        `crossbar_api.sessions.check`."""
        claims = self.claims(token, now)
        return claims.caller if claims else None


class AttemptLimiter:
    """At most `max_failures` failed attempts per key (a client address) in a sliding window.
    Kept in the worker's memory: with N API workers one address gets at most N times the budget;
    the limit that matters against guessing is the store-shared one per account."""

    # Generous: clients behind one NAT or an unconfigured proxy share an address, and the
    # per-account limit is the one that stops guessing.
    def __init__(self, max_failures: int = 30, window_s: float = 300.0):
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, keys: list[str], now: float | None = None) -> int | None:
        """Seconds until these keys may try again, or None when they may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [
                self._recent(key, now)[0] + self.window_s - now
                for key in keys
                if len(self._recent(key, now)) >= self.max_failures
            ]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
