"""Whether a token still speaks for its caller. A signed token proves who logged in and when; it
cannot know what happened since, so each request also checks the store: the token was not logged
out, the user still exists, is enabled, holds the privilege the token claims and the password it
was issued for (for an API login: the account's key is unchanged), and no account from the
caller's own up to the master is disabled.

The documents are kept per worker for a few seconds (`auth_cache_s`), so a busy client costs a
read per document every few seconds rather than one per request: a change takes that long to
bite. Logout holds at once on every worker of the host (crossbar_api.revocations)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import get_or_none
from crossbar_api.auth import Caller, TokenClaims, TokenSigner
from crossbar_api.errors import ApiError
from crossbar_api.revocations import Revocations


class RecentDocuments:
    """Documents read within the last `ttl_s` seconds of the API's clock; 0 reads every time.
    Bounded: past `max_entries` it starts afresh rather than grow with every account asked."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000):
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._docs: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, store: DocumentStore, db: str, doc_id: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            kept = self._docs.get((db, doc_id))
        if kept is not None and 0 <= now - kept[0] < self.ttl_s:
            return kept[1]
        return self.read_afresh(store, db, doc_id, now)

    def read_afresh(self, store: DocumentStore, db: str, doc_id: str, now: float) -> dict[str, Any] | None:
        """The stored document, now; kept for the reads that trust the last few seconds."""
        doc = get_or_none(store, db, doc_id)
        with self._lock:
            if len(self._docs) >= self.max_entries:
                self._docs.clear()
            self._docs[(db, doc_id)] = (now, doc)
        return doc


def is_disabled(account: dict[str, Any]) -> bool:
    """Disabled by an operator. An account Kazbill blocked for lack of funds is not: it must stay
    reachable so that it can pay."""
    return account.get("enabled") is False or (
        account.get("pvt_enabled") is False and not account.get("pvt_kazbill_blocked")
    )


def user_credentials(tokens: TokenSigner, user: dict[str, Any]) -> str:
    return tokens.credential_version(user.get("pvt_md5_auth"), user.get("pvt_sha1_auth"))


def api_key_credentials(tokens: TokenSigner, account: dict[str, Any]) -> str:
    return tokens.credential_version(account.get("pvt_api_key"))


def _gone(reason: str) -> ApiError:
    return ApiError(401, "invalid credentials", {"auth_token": {"revoked": {"message": reason}}})


def locked(account_id: str, own: bool) -> ApiError:
    message = "the account is disabled" if own else f"account {account_id} above this one is disabled"
    return ApiError(423, "locked", {"account_id": {"enabled": {"message": message}}})


def first_disabled(recent: RecentDocuments, store: DocumentStore, account_ids: Iterable[str], now: float) -> str | None:
    for account_id in account_ids:
        account = recent.get(store, ACCOUNTS_DB, account_id, now)
        if account is not None and is_disabled(account):
            return account_id
    return None


def _user_still_valid(
    tokens: TokenSigner, caller: Caller, account: dict[str, Any], user: dict[str, Any] | None
) -> bool:
    if user is None or user.get("pvt_deleted") or user.get("enabled") is False:
        return False
    is_superduper = user.get("pvt_superduper_admin") is True and not account.get("pvt_tree")
    return (
        (user.get("priv_level") == "admin") == caller.is_admin
        and is_superduper == caller.is_superduper
        and user_credentials(tokens, user) == caller.credential_version
    )


def check(
    store: DocumentStore,
    tokens: TokenSigner,
    recent: RecentDocuments,
    revocations: Revocations,
    claims: TokenClaims,
    now: float,
) -> None:
    """Raises 401 when the token no longer speaks for its caller, 423 when the caller's account
    or one above it is disabled."""
    if revocations.is_revoked(store, claims):
        raise _gone("this token was logged out")
    caller = claims.caller
    account = recent.get(store, ACCOUNTS_DB, caller.account_id, now)
    if account is None or account.get("pvt_deleted"):
        raise _gone("the token's account no longer exists")
    if caller.method == "user_auth":
        user = recent.get(store, account_db(caller.account_id), caller.user_id or "", now)
        if not _user_still_valid(tokens, caller, account, user):
            raise _gone(
                "the user was deleted, disabled or given another privilege, or changed password, "
                "since this token was issued"
            )
    elif caller.method == "kazoo_jwt":
        # Kazoo's token: its signature and identity were checked against Kazoo's own keys and
        # secrets for this very request (crossbar_api.kazoo_tokens); held to Kazbill's rules too.
        user = recent.get(store, account_db(caller.account_id), caller.user_id, now) if caller.user_id else None
        if caller.user_id and (user is None or user.get("pvt_deleted") or user.get("enabled") is False):
            raise _gone("the user was deleted or disabled")
    elif api_key_credentials(tokens, account) != caller.credential_version:
        raise _gone("the account's API key changed since this token was issued")
    disabled = first_disabled(recent, store, [caller.account_id, *(account.get("pvt_tree") or [])], now)
    if disabled is not None:
        raise locked(disabled, own=disabled == caller.account_id)
