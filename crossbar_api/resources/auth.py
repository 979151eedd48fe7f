"""PUT /v2/user_auth and PUT /v2/api_auth: Kazoo's two ways to get a token. Which account a
login names, and what its answer carries, follow cb_user_auth (crossbar_api/logins.py)."""
from __future__ import annotations

import re
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.ports import DatabaseNotFound, NotFound, ViewQuery
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.logins import find_user_login, login_answer

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


class _Login:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _guard(self, req: falcon.Request, credential: str) -> list[str]:
        keys = [f"credential:{credential}", f"address:{req.remote_addr}"]
        wait = self.deps.attempts.retry_after(keys)
        if wait is not None:
            raise ApiError(429, "too many failed attempts; try again later", headers={"Retry-After": str(wait)})
        return keys

    def _refuse(self, keys: list[str]) -> ApiError:
        self.deps.attempts.failed(keys)
        return ApiError(401, "invalid credentials")

    def _grant(self, req: falcon.Request, resp: falcon.Response, caller: Caller, keys: list[str],
               account: dict[str, Any]) -> None:
        self.deps.attempts.succeeded(keys[:1])  # the address keeps its count: one good login must
        token = self.deps.tokens.issue(caller, self.deps.clock.now().timestamp())  # not clear guesses
        req.context.token = token
        answer(req, resp, login_answer(self.deps, caller, account), status=201)


class UserAuth(_Login):
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"credentials", "account_name", "account_realm", "realm", "phone_number", "method"})
        method = data.get("method", "md5")
        if method not in _HEX:
            raise invalid("method", "enum", "must be md5 or sha")
        credentials = data.get("credentials")
        if not isinstance(credentials, str) or not _HEX[method].match(credentials.lower()):
            raise invalid("credentials", "format", f"must be the {method} hash of \"username:password\" in hex")
        where = _where(data)
        keys = self._guard(req, credentials.lower())
        found = find_user_login(self.deps, method, credentials, phone_number=where.get("phone_number"),
                                realm=where.get("account_realm") or where.get("realm"),
                                account_name=where.get("account_name"))
        if found is None:
            raise self._refuse(keys)
        self._grant(req, resp, found[0], keys, found[1])


class ApiAuth(_Login):
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"api_key"})
        api_key = data.get("api_key")
        if not isinstance(api_key, str) or not 16 <= len(api_key) <= 128:
            raise invalid("api_key", "format", "must be the account's API key")
        keys = self._guard(req, api_key)
        try:
            rows = self.deps.store.query_view(ACCOUNTS_DB, "kazbill_accounts", "by_api_key",
                                              ViewQuery(key=api_key, key_is_set=True)).rows
        except (NotFound, DatabaseNotFound):
            rows = []
        if not rows:
            raise self._refuse(keys)
        account = self.deps.store.get(ACCOUNTS_DB, rows[0].id)
        self._grant(req, resp, Caller(rows[0].id, None, True, False, "api_auth"), keys, account)
