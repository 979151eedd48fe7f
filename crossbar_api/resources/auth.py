"""PUT /v2/user_auth and PUT /v2/api_auth: Kazoo's two ways to get a token, and DELETE
/v2/token_auth to give one up. Which account a login names, and what its answer carries, follow
cb_user_auth (crossbar_api/logins.py); failed logins are limited per address in this worker and
per account through the store (crossbar_api/login_throttle.py)."""

from __future__ import annotations

import re
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.ports import DatabaseNotFound, NotFound, ViewQuery
from crossbar_api.access import authenticate
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.login_throttle import LoginThrottle, client_address
from crossbar_api.logins import find_user_login, login_answer
from crossbar_api.sessions import RecentDocuments, api_key_credentials, first_disabled, locked

_HEX = {"md5": re.compile(r"^[0-9a-f]{32}$"), "sha": re.compile(r"^[0-9a-f]{40}$")}
# Kazoo's user_auth schema (applications/crossbar/priv/couchdb/schemas/user_auth.json): lengths
# and the realm's pattern; `realm` is the older spelling cb_user_auth still reads (erl:289).
_TEXT_LIMITS = {"account_name": (1, 128), "account_realm": (4, 253), "realm": (4, 253), "phone_number": (1, 64)}
_REALM = re.compile(r"^[.\w_-]+$")


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise invalid(key, "unknown", f"unknown field; expected one of {', '.join(sorted(allowed))}")


def _where(data: dict[str, Any]) -> dict[str, str]:
    """The account identifiers given, each checked as Kazoo's schema checks it."""
    where = {}
    for key, (shortest, longest) in _TEXT_LIMITS.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str) or not shortest <= len(value) <= longest:
            raise invalid(key, "type", f"must be text of {shortest} to {longest} characters")
        if key in ("account_realm", "realm") and not _REALM.match(value):
            raise invalid(key, "pattern", "a realm is letters, digits, dots, dashes and underscores")
        where[key] = value
    if "account_realm" in where and "realm" in where:
        raise invalid("realm", "conflict", "give account_realm or realm, not both")
    if not where:
        raise invalid("account_name", "required", "give account_name, account_realm or phone_number")
    return where


def _too_many(wait: int) -> ApiError:
    return ApiError(429, "too many failed attempts; try again later", headers={"Retry-After": str(wait)})


def address_guard(req: falcon.Request, deps: ApiDeps) -> list[str]:
    """The client's address (as our proxy saw it) has a budget of its own in this worker."""
    keys = [f"address:{client_address(req, deps.trusted_proxy_header)}"]
    wait = deps.attempts.retry_after(keys)
    if wait is not None:
        raise _too_many(wait)
    return keys


def checked_user_login(
    req: falcon.Request,
    deps: ApiDeps,
    method: str,
    credentials: str,
    *,
    phone_number: str | None = None,
    realm: str | None = None,
    account_name: str | None = None,
) -> tuple[Caller, dict[str, Any]] | None:
    """A user login as every entrance must make it (this API's and any page's): within the
    address's budget and each named account's, counted before the credentials are tried."""
    keys = address_guard(req, deps)
    throttle, tried = LoginThrottle(deps.store, deps.login_policy), []

    def count_against(account_id: str) -> None:
        wait = throttle.begin(account_id, deps.clock.now().timestamp())
        if wait is not None:
            raise _too_many(wait)
        tried.append(account_id)

    found = find_user_login(
        deps,
        method,
        credentials,
        phone_number=phone_number,
        realm=realm,
        account_name=account_name,
        before_trying=count_against,
    )
    if found is None:
        deps.attempts.failed(keys)
        return None
    # The accounts take back this attempt's count; the address keeps its failures, so that one
    # good login of the attacker's own cannot clear its guesses at others.
    throttle.succeeded(tried, deps.clock.now().timestamp())
    return found


class _Login:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _grant(self, req: falcon.Request, resp: falcon.Response, caller: Caller, account: dict[str, Any]) -> None:
        now = self.deps.clock.now().timestamp()
        disabled = first_disabled(
            RecentDocuments(ttl_s=0), self.deps.store, [caller.account_id, *(account.get("pvt_tree") or [])], now
        )
        if disabled is not None:
            raise locked(disabled, own=disabled == caller.account_id)
        token = self.deps.tokens.issue(caller, now)
        req.context.token = token
        answer(req, resp, login_answer(self.deps, caller, account), status=201)


class UserAuth(_Login):
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"credentials", "account_name", "account_realm", "realm", "phone_number", "method"})
        method = data.get("method", "md5")
        if not isinstance(method, str) or method not in _HEX:  # (a list or an object is no key of it)
            raise invalid("method", "enum", "must be md5 or sha")
        credentials = data.get("credentials")
        if not isinstance(credentials, str) or not _HEX[method].match(credentials.lower()):
            raise invalid("credentials", "format", f'must be the {method} hash of "username:password" in hex')
        where = _where(data)
        found = checked_user_login(
            req,
            self.deps,
            method,
            credentials,
            phone_number=where.get("phone_number"),
            realm=where.get("account_realm") or where.get("realm"),
            account_name=where.get("account_name"),
        )
        if found is None:
            raise ApiError(401, "invalid credentials")
        self._grant(req, resp, found[0], found[1])


class ApiAuth(_Login):
    """An API key is 64 random hex digits (Kazoo's): guessing one is hopeless, and a wrong key
    names no account to count against, so only the address's budget applies."""

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"api_key"})
        api_key = data.get("api_key")
        if not isinstance(api_key, str) or not 16 <= len(api_key) <= 128:
            raise invalid("api_key", "format", "must be the account's API key")
        keys = address_guard(req, self.deps)
        try:
            rows = self.deps.store.query_view(
                ACCOUNTS_DB, "kazbill_accounts", "by_api_key", ViewQuery(key=api_key, key_is_set=True)
            ).rows
        except (NotFound, DatabaseNotFound):
            rows = []
        if not rows:
            self.deps.attempts.failed(keys)
            raise ApiError(401, "invalid credentials")
        account_id = rows[0].id
        assert account_id is not None  # map rows name their document
        account = self.deps.store.get(ACCOUNTS_DB, account_id)
        caller = Caller(account_id, None, True, False, "api_auth", api_key_credentials(self.deps.tokens, account))
        self._grant(req, resp, caller, account)


class TokenAuth:
    """DELETE /v2/token_auth: log out. The token presented stops working on every worker at once;
    the user's other tokens are untouched."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        authenticate(req, self.deps)
        self.deps.revocations.revoke(self.deps.store, req.context.claims)
        answer(req, resp, {})
