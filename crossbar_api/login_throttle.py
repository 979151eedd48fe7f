"""Failed logins counted per account the login names, in the store, so that every API worker
and every node sees the same count, and waits that double past a free allowance.

Kazoo's user_auth sends only md5("user:password"): a wrong guess does not say which user it was
aimed at, so the narrowest target that can be told is the account that the name, realm or phone
number resolves to. Keying on that account (never on the guess, never on the address) holds
however many addresses the guesses come from and however the name is spelled.

Each attempt is counted before the credentials are tried, by a write that conflicts with any
concurrent one, so a burst sent at once cannot all pass the check before the first failure is
written; a login that succeeds takes its own count back. The price: more than `free_failures`
logins to one account in the same instant may see 429 even when all are right, until the
successful ones have taken their counts back."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.ports import Conflict, DocumentStore, put_making_database
from bookkeeper.services.billing.context import get_or_none

FAILURES_PREFIX = "login_failures:"
WRITE_TRIES = 8  # concurrent attempts on one account conflict; each retry re-reads the count


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int = 5  # failures in a row before any wait: typos cost nothing
    first_wait_s: float = 2.0  # the wait after the last free failure, doubled by each one past it
    longest_wait_s: float = 900.0  # a cap, so that an attacker cannot lock an account out for a day
    forget_after_s: float = 3600.0  # an account's count starts over after this long without a failure

    def wait_after(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        return min(self.first_wait_s * 2 ** min(failures - self.free_failures, 32), self.longest_wait_s)


def client_address(req: falcon.Request, trusted_header: str | None) -> str:
    """The trusted proxy's header names the client; it appends the address it saw last, so the
    rightmost entry is the one no client could write. Without a configured header, the peer."""
    if trusted_header:
        forwarded = [part.strip() for part in (req.get_header(trusted_header) or "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return req.remote_addr or "unknown"


class LoginThrottle:
    def __init__(self, store: DocumentStore, policy: LoginPolicy):
        self.store, self.policy = store, policy

    def _counted(self, account_id: str, now: float) -> tuple[dict[str, Any], int]:
        doc = get_or_none(self.store, SYSTEM_DB, FAILURES_PREFIX + account_id) or {
            "_id": FAILURES_PREFIX + account_id,
            "pvt_type": "kazbill_login_failures",
        }
        failures = doc.get("failures", 0)
        if now - doc.get("last_failure_at", now) > self.policy.forget_after_s:
            failures = 0
        return doc, failures

    def begin(self, account_id: str, now: float) -> int | None:
        """Counts this attempt against the account: None, or (counting nothing) the seconds to
        wait while it is still waiting out earlier failures."""
        for _ in range(WRITE_TRIES):
            doc, failures = self._counted(account_id, now)
            if doc.get("blocked_until", 0) > now:
                return max(1, math.ceil(doc["blocked_until"] - now))
            failures += 1
            wait = self.policy.wait_after(failures)
            try:
                put_making_database(
                    self.store,
                    SYSTEM_DB,
                    {
                        **doc,
                        "failures": failures,
                        "last_failure_at": now,
                        "blocked_until": now + wait if wait else doc.get("blocked_until", 0),
                    },
                )
                return None
            except Conflict:
                continue  # a concurrent attempt on this account wrote first: count on top of it
        return 1  # the account is being tried hard right now: this attempt waits

    def succeeded(self, account_ids: Iterable[str], now: float) -> None:
        """Takes back the count `begin` wrote for this attempt; the others' failures stay."""
        for account_id in set(account_ids):
            for _ in range(WRITE_TRIES):
                doc, failures = self._counted(account_id, now)
                if "_rev" not in doc or failures == 0:
                    break
                wait = self.policy.wait_after(failures - 1)  # the block this attempt's count set, lifted
                lowered = min(doc.get("blocked_until", 0), doc.get("last_failure_at", now) + wait) if wait else 0
                try:
                    put_making_database(
                        self.store, SYSTEM_DB, {**doc, "failures": failures - 1, "blocked_until": lowered}
                    )
                    break
                except Conflict:
                    continue
