"""Signing in from a page's form, the payments page's and the console's: Kazoo's md5 credentials
checked by the API's own login rule (the address's and the named account's budgets, shared by
every worker through the store, counted before the password is tried), and a guard against
login CSRF: a page elsewhere that posts its own credentials (or its own Kazoo token) would sign
the visitor in as the attacker, and whatever the visitor then types (a card, a plan) would land
in the attacker's account. Browsers name the page a POST comes from (`Origin`), so a sign-in
posted from another site is refused unless the operator allowed that site (the Monster UI
origins of KAZBILL_API_CORS_ORIGINS, named: `*` does not count here). A client that is no
browser sends no Origin and is not concerned."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import falcon

from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.resources.auth import checked_user_login


def refuse_cross_site(req: falcon.Request, deps: ApiDeps) -> None:
    origin = req.get_header("Origin")
    if origin is None:
        return
    # By host name, not port: a proxy in front may pass `Host` without the port the browser used
    # (nginx's $host), and cookies are not kept apart by port either.
    own = {_host_name(req.host), _host_name(req.forwarded_host or "")} - {""}
    if origin != "null" and (_host_name(urlsplit(origin).netloc) in own or _allowed(origin, deps.cors_origins)):
        return
    raise ApiError(
        403,
        "forbidden",
        {"Origin": {"cross_site": {"message": f"a sign-in posted from {origin} is refused: not this site"}}},
    )


def _host_name(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "") if netloc else ""


def _allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Only the sites named: `*` lets any site call the API with its own token, never sign a
    visitor in (that would switch the guard off)."""
    return origin.rstrip("/") in {site.rstrip("/") for site in allowed if site != "*"}


def form_login(req: falcon.Request, deps: ApiDeps) -> tuple[tuple[Any, str] | None, str]:
    """(the caller and a new API token, or None when refused; the account name given)."""
    refuse_cross_site(req, deps)
    form = read_form(req)
    name, user, password = (form.get(key, "").strip() for key in ("account_name", "username", "password"))
    credentials = hashlib.md5(f"{user.lower()}:{password}".encode()).hexdigest()  # Kazoo's md5 credentials
    found = checked_user_login(req, deps, "md5", credentials, account_name=name) if name and user else None
    if found is None:
        return None, name
    caller, _ = found
    return (caller, deps.tokens.issue(caller, deps.clock.now().timestamp())), name
