"""PUT /v2/user_auth and PUT /v2/api_auth: Kazoo's two ways to get a token."""
from __future__ import annotations

import re
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import DatabaseNotFound, NotFound, ViewQuery
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid

_HEX = {"md5": re.compile(r"^[0-9a-f]{32}$"), "sha": re.compile(r"^[0-9a-f]{40}$")}


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise invalid(key, "unknown", f"unknown field; expected one of {', '.join(sorted(allowed))}")


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
        answer(req, resp, {"account_id": caller.account_id, "owner_id": caller.user_id,
                           "account_name": account.get("name"), "is_reseller": bool(account.get("pvt_reseller")),
                           "is_superduper_admin": caller.is_superduper}, status=201)

    def _view(self, db: str, design: str, view: str, key: Any) -> list:
        return _rows(self.deps, db, design, view, key)


def _rows(deps: ApiDeps, db: str, design: str, view: str, key: Any) -> list:
    try:
        return deps.store.query_view(db, design, view, ViewQuery(key=key, key_is_set=True)).rows
    except (NotFound, DatabaseNotFound):
        return []


def find_user_login(deps: ApiDeps, where: str, name: str, method: str, credentials: str) -> tuple[Caller, dict] | None:
    """The user whose Kazoo credentials hash (md5 or sha1 of "user:password") matches, in the
    account named (`where` is account_name or realm): (the caller, its account), or None."""
    view = "by_name" if where == "account_name" else "by_realm"
    for row in _rows(deps, ACCOUNTS_DB, "kazbill_accounts", view, name.strip().lower()):
        for user in _rows(deps, account_db(row.id), "kazbill_users", "by_credentials", [method, credentials.lower()]):
            account = deps.store.get(ACCOUNTS_DB, row.id)
            return Caller(row.id, user.id, user.value.get("priv_level") == "admin",
                          bool(user.value.get("superduper")) and not account.get("pvt_tree"), "user_auth"), account
    return None


class UserAuth(_Login):
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"credentials", "account_name", "realm", "phone_number", "method"})
        method = data.get("method", "md5")
        if method not in _HEX:
            raise invalid("method", "enum", "must be md5 or sha")
        credentials = data.get("credentials")
        if not isinstance(credentials, str) or not _HEX[method].match(credentials.lower()):
            raise invalid("credentials", "format", f"must be the {method} hash of \"username:password\" in hex")
        if "phone_number" in data:
            raise invalid("phone_number", "unsupported", "log in with account_name or realm")
        where = [(k, data[k]) for k in ("account_name", "realm") if k in data]
        if len(where) != 1 or not isinstance(where[0][1], str) or not where[0][1].strip():
            raise invalid("account_name", "required", "give exactly one of account_name or realm")
        keys = self._guard(req, credentials.lower())
        found = find_user_login(self.deps, where[0][0], where[0][1], method, credentials)
        if found is None:
            raise self._refuse(keys)
        self._grant(req, resp, *found[:1], keys, found[1])


class ApiAuth(_Login):
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = read_data(req)
        _only(data, {"api_key"})
        api_key = data.get("api_key")
        if not isinstance(api_key, str) or not 16 <= len(api_key) <= 128:
            raise invalid("api_key", "format", "must be the account's API key")
        keys = self._guard(req, api_key)
        rows = self._view(ACCOUNTS_DB, "kazbill_accounts", "by_api_key", api_key)
        if not rows:
            raise self._refuse(keys)
        account = self.deps.store.get(ACCOUNTS_DB, rows[0].id)
        self._grant(req, resp, Caller(rows[0].id, None, True, False, "api_auth"), keys, account)
