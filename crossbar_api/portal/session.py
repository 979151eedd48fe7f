"""The page's session: the API token in a cookie scoped to /portal (HttpOnly, SameSite=Strict),
and a form token derived from it that every POST must carry, so another site can neither read
the page nor make the browser post to it."""

from __future__ import annotations

import hashlib
import hmac

import falcon

from crossbar_api.access import PORTAL_COOKIE as COOKIE

PATH = "/portal"


def form_token(api_token: str) -> str:
    return hashlib.sha256(f"form:{api_token}".encode()).hexdigest()[:32]


def start(req: falcon.Request, resp: falcon.Response, api_token: str, ttl_s: int) -> None:
    resp.set_cookie(
        COOKIE, api_token, path=PATH, http_only=True, same_site="Strict", max_age=ttl_s, secure=req.scheme == "https"
    )


def end(resp: falcon.Response) -> None:
    resp.unset_cookie(COOKIE, path=PATH)


def check_form(req: falcon.Request, form: dict[str, str]) -> bool:
    token = req.get_cookie_values(COOKIE)
    if not token:
        return False
    return hmac.compare_digest(form.get("form_token", ""), form_token(token[0]))
