"""Who may act on which account: a caller acts on its own account and on every account below
it (its id is in the target's pvt_tree), never on a sibling or an ancestor; writes need an
admin; a super-duper admin of the master account acts everywhere. An account an operator
disabled answers 423 to its own users, and so does every account below it, to anyone; one
Kazbill blocked for lack of funds stays reachable, so it can pay.

Money and terms are set "from above": by the reseller that bills the account, or by an account
above that reseller. A parent that is not a reseller does not bill its sub-accounts, so it
cannot credit them, debit them, or change their limits, trial or plans."""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, is_account_id
from bookkeeper.domain.settings import SettingsError, reseller_of
from bookkeeper.services.billing.context import (
    BillingContext,
    BillingInputError,
    find_reseller,
    get_or_none,
    load_context,
)
from bookkeeper.services.billing.pass_reads import json_copy
from bookkeeper.services.payments.gateway_settings import is_reseller
from crossbar_api import sessions
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.kazoo_tokens import looks_like_kazoo

PORTAL_PREFIX, PORTAL_COOKIE = "/portal", "kazbill_portal"  # the customers' payments page
CONSOLE_PREFIX, CONSOLE_COOKIE = "/console", "kazbill_console"  # the resellers' console
PAGE_COOKIES = {PORTAL_PREFIX: PORTAL_COOKIE, CONSOLE_PREFIX: CONSOLE_COOKIE}


def token_of(req: falcon.Request) -> str | None:
    header = req.get_header("X-Auth-Token")
    if header:
        return header.strip()
    authorization = req.get_header("Authorization") or ""
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    for prefix, name in PAGE_COOKIES.items():  # a page's session: its cookie is scoped to its prefix
        if req.path == prefix or req.path.startswith(prefix + "/"):
            cookie = req.get_cookie_values(name)
            if cookie:
                return cookie[0]
    return req.get_param("auth_token")


def authenticate(req: falcon.Request, deps: ApiDeps) -> Caller:
    """The caller a token names, once it is known to still speak for them (crossbar_api.sessions)."""
    token = token_of(req)
    now = deps.clock.now().timestamp()
    claims = deps.tokens.claims(token, now) if token else None
    if claims is None and token and deps.kazoo_tokens is not None and looks_like_kazoo(token):
        claims = deps.kazoo_tokens.claims(token, now)  # Monster UI's own token, when beside Kazoo
    if claims is None:
        raise ApiError(
            401,
            "invalid credentials",
            {
                "auth_token": {
                    "required": {
                        "message": "a valid, unexpired token is needed (X-Auth-Token or Authorization: Bearer)"
                    }
                }
            },
        )
    sessions.check(deps.store, deps.tokens, deps.recent, deps.revocations, claims, now)
    req.context.caller, req.context.claims, req.context.token = claims.caller, claims, token
    return claims.caller


def account_for(
    req: falcon.Request,
    deps: ApiDeps,
    account_id: str,
    *,
    write: bool = False,
    from_above: bool = False,
    recent: bool = False,
) -> dict[str, Any]:
    """The target account's document once the caller may act on it. `from_above`: only the
    reseller that bills the account or an account above that reseller may (see `is_from_above`).
    `recent`: a read that shows nothing of the account's own document (its balance, its ledger)
    may take it as this worker read it within KAZBILL_API_AUTH_CACHE (_target_account)."""
    caller = authenticate(req, deps)
    if not is_account_id(account_id):
        raise ApiError(404, "bad identifier", {"account_id": {"format": {"message": "not a Kazoo account id"}}})
    account = _target_account(req, deps, account_id, recent=recent and not (write or from_above))
    if account is None or account.get("pvt_deleted"):
        raise ApiError(
            404, "bad identifier", {"account_id": {"exists": {"message": f"account {account_id} not found"}}}
        )
    tree = account.get("pvt_tree") or []
    own = caller.account_id == account_id
    if not caller.is_superduper:
        if not (own or caller.account_id in tree):
            raise ApiError(
                403,
                "forbidden",
                {
                    "account_id": {
                        "access": {"message": "only the account itself and the accounts above it may do this"}
                    }
                },
            )
        if from_above and not is_from_above(deps, caller, account):
            raise ApiError(
                403,
                "forbidden",
                {
                    "account_id": {
                        "access": {
                            "message": (
                                "only the reseller that bills this account, or an account above "
                                "that reseller, may do this"
                            )
                        }
                    }
                },
            )
        if write and not caller.is_admin:
            raise ApiError(403, "forbidden", {"priv_level": {"admin": {"message": "this needs an admin"}}})
        if own and sessions.is_disabled(account):
            raise sessions.locked(account_id, own=True)
    above = sessions.first_disabled(deps.recent, deps.store, tree, deps.clock.now().timestamp())
    if above is not None:  # a disabled reseller's whole subtree is out of reach, its own users' too
        raise sessions.locked(above, own=False)
    return account


def _target_account(req: falcon.Request, deps: ApiDeps, account_id: str, *, recent: bool) -> dict[str, Any] | None:
    """The account a request is about. A `recent` read (a balance, a ledger: GET only) trusts
    what this worker read of it within KAZBILL_API_AUTH_CACHE, as a token's own account and user
    are trusted: an account moved to another reseller, or deleted, is out of the old reseller's
    sight within that, and on CouchDB a `GET .../ledgers/total` is two store requests, not three.
    Everything else reads it afresh (who may act on it can change: no write, no gateway call, no
    page showing the account is ever decided by a tree it has left), and leaves that fresh copy
    for the reads after it. Handed out as a copy: a route may change what it is given."""
    now = deps.clock.now().timestamp()
    if recent and req.method in ("GET", "HEAD"):
        kept = deps.recent.get(deps.store, ACCOUNTS_DB, account_id, now)
    else:
        kept = deps.recent.read_afresh(deps.store, ACCOUNTS_DB, account_id, now)
    return json_copy(kept) if kept is not None else None


def is_from_above(deps: ApiDeps, caller: Caller, account: dict[str, Any]) -> bool:
    """Whether the caller bills this account: it is the account's reseller, found by Kazoo's rule
    (the services document's pvt_reseller_id, else the nearest reseller in pvt_tree, else the
    master), or an account above that reseller; never the account itself. Kazoo lets only the
    reseller itself credit or debit (cb_ledgers:authorize_create, applications/crossbar/src/
    modules/cb_ledgers.erl:122-136) and assign plans (cb_services:is_allowed, cb_services.erl:
    693-702); the accounts above it are the reseller's own resellers, which may act for it."""
    if caller.is_superduper:
        return True
    if caller.account_id == account["_id"] or caller.account_id not in (account.get("pvt_tree") or []):
        return False
    try:
        master_id, reseller_id, services = find_reseller(deps.store, account)
        if reseller_id == account["_id"]:  # a services document naming the account itself: the
            flags = {
                ancestor: bool(doc.get("pvt_reseller"))  # reseller above it bills it
                for ancestor, doc in services.items()
                if ancestor != reseller_id
            }
            reseller_id = reseller_of(account, None, master_id, flags)
    except SettingsError as error:
        raise ApiError(
            409,
            "the account's billing documents cannot be used",
            {f"{error.document}.{error.field}".rstrip("."): {"billing": {"message": error.reason}}},
        ) from None
    if caller.account_id == reseller_id:
        return True
    reseller = get_or_none(deps.store, ACCOUNTS_DB, reseller_id)
    return reseller is not None and caller.account_id in (reseller.get("pvt_tree") or [])


def billing_context(deps: ApiDeps, account_id: str) -> BillingContext:
    """The account's billing context; 409 naming the field when its documents cannot be billed by
    (the request is fine, the stored configuration is not)."""
    try:
        return load_context(deps.store, account_id)
    except BillingInputError as error:
        raise ApiError(
            409, "the account's billing documents cannot be used", {error.field: {"billing": {"message": error.reason}}}
        ) from None


def reseller_for(req: falcon.Request, deps: ApiDeps, account_id: str, *, write: bool) -> dict[str, Any]:
    """account_for, and the account must be a reseller (or the master): gateway settings and rate
    decks belong to the accounts that bill others."""
    account = account_for(req, deps, account_id, write=write)
    if not is_reseller(deps.store, account_id):
        raise ApiError(
            404,
            "bad identifier",
            {
                "account_id": {
                    "reseller": {
                        "message": (
                            f"account {account_id} is not a reseller; this belongs to the accounts that bill others"
                        )
                    }
                }
            },
        )
    return account
