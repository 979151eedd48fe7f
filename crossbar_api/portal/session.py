"""A page's session (the payments page's, the console's): the API token in a cookie scoped to
the page's path (HttpOnly, SameSite=Strict), and a form token derived from it that every POST
must carry, so another site can neither read the page nor make the browser post to it."""

from __future__ import annotations

import hashlib
import hmac

import falcon

from crossbar_api.access import PORTAL_COOKIE as COOKIE
from crossbar_api.access import PORTAL_PREFIX as PATH


def form_token(api_token: str) -> str:
    return hashlib.sha256(f"form:{api_token}".encode()).hexdigest()[:32]


def start(
    req: falcon.Request, resp: falcon.Response, api_token: str, ttl_s: int, *, cookie: str = COOKIE, path: str = PATH
) -> None:
    resp.set_cookie(
        cookie, api_token, path=path, http_only=True, same_site="Strict", max_age=ttl_s, secure=req.scheme == "https"
    )


def end(resp: falcon.Response, *, cookie: str = COOKIE, path: str = PATH) -> None:
    resp.unset_cookie(cookie, path=path)


def check_form(req: falcon.Request, form: dict[str, str], *, cookie: str = COOKIE) -> bool:
    token = req.get_cookie_values(cookie)
    if not token:
        return False
    return hmac.compare_digest(form.get("form_token", ""), form_token(token[0]))
