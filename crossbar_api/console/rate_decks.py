"""The console's rate decks page: upload a deck as CSV (all rows or none: a deck with bad lines
is refused whole, each bad line and column named), follow a large import's progress (the page
reloads itself while the service imports it), and look up which rate a number takes and what a
call of some seconds costs. Uploads and lookups are the API's own (`PUT .../rate_decks/{deck}`,
`GET .../imports/{job}`, `GET .../rate`), called as the signed-in user.

    GET  /console/accounts/{id}/rate_decks   ?deck=&number=&seconds=&direction=&job=
    POST /console/accounts/{id}/rate_decks   multipart: form_token, deck, file
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import falcon

from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX
from crossbar_api.console.api_calls import ApiAnswer, call_api
from crossbar_api.console.texts import TEXTS
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of
from crossbar_api.resources.rate_decks import MAX_DECK_BYTES

MAX_FORM_PARTS = 5


class RateDecksPage:
    def __init__(self, deps: ApiDeps, app: falcon.App, render: Any, reading: Any):
        self.deps, self.app, self.render, self.reading = deps, app, render, reading

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        lang = language_of(req.get_param("lang"), None)
        deck = req.get_param("deck") or _default_deck(self.app, req, account_id)
        base = f"/v2/accounts/{account_id}/rate_decks/{quote(deck, safe='')}" if deck else None
        lookup = job = None
        if base and req.get_param("number"):
            query = {key: req.get_param(key) or "" for key in ("number", "seconds", "direction")}
            query = {key: value for key, value in query.items() if value}
            lookup = call_api(self.app, req, "GET", f"{base}/rate?{urlencode(query)}")
        if base and req.get_param("job"):
            job = call_api(self.app, req, "GET", f"{base}/imports/{quote(req.get_param('job') or '', safe='')}")
        self._show(req, resp, account, lang, deck, lookup=lookup, job=job, done=req.get_param("done"))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        lang = language_of(req.get_param("lang"), None)
        fields, csv = _multipart(req)
        if not session.check_form(req, fields, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        deck = fields.get("deck", "").strip()
        path = f"/v2/accounts/{account_id}/rate_decks/{quote(deck, safe='')}"
        uploaded = call_api(self.app, req, "PUT", path, raw=csv or b"", content_type="text/csv")
        page = f"{CONSOLE_PREFIX}/accounts/{account_id}/rate_decks?" + urlencode({"lang": lang, "deck": deck})
        if uploaded.status == 202:
            raise falcon.HTTPSeeOther(f"{page}&{urlencode({'job': uploaded.data['job_id']})}")
        if uploaded.ok:
            raise falcon.HTTPSeeOther(f"{page}&{urlencode({'done': uploaded.data['rates']})}")
        self._show(req, resp, account, lang, deck, refused=uploaded, status=400)

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account: dict[str, Any],
        lang: str,
        deck: str,
        *,
        lookup: ApiAnswer | None = None,
        job: ApiAnswer | None = None,
        refused: ApiAnswer | None = None,
        done: str | None = None,
        status: int = 200,
    ) -> None:
        running = job is not None and job.ok and (job.data or {}).get("state") in ("queued", "running")
        self.render(
            resp,
            "rate_decks.html",
            status,
            lang=lang,
            t=TEXTS[lang],
            account=account,
            deck=deck,
            asked={key: req.get_param(key) or "" for key in ("number", "seconds", "direction")},
            lookup=lookup,
            job=job,
            refreshing=running,
            refused=refused,
            done=done,
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )


def _default_deck(app: falcon.App, req: falcon.Request, account_id: str) -> str:
    settings = call_api(app, req, "GET", f"/v2/accounts/{account_id}/onbill")
    own = (settings.data or {}) if settings.ok else {}
    return str(own.get("default_rate_deck") or "")


def _multipart(req: falcon.Request) -> tuple[dict[str, str], bytes | None]:
    """The form's text fields and the uploaded file's bytes, each part bounded."""
    if (req.content_length or 0) > MAX_DECK_BYTES + 64 * 1024:
        raise ApiError(
            400, "invalid data", {"file": {"size": {"message": f"a deck is at most {MAX_DECK_BYTES} bytes"}}}
        )
    fields: dict[str, str] = {}
    file: bytes | None = None
    try:
        for count, part in enumerate(req.get_media()):
            if count >= MAX_FORM_PARTS:
                break
            if part.name == "file":
                file = part.stream.read(MAX_DECK_BYTES + 1)
            elif part.name in ("form_token", "deck"):
                fields[part.name] = part.stream.read(4096).decode("utf-8", "replace")
    except (falcon.MediaMalformedError, falcon.HTTPError, ValueError):
        raise ApiError(
            400, "invalid data", {"file": {"form": {"message": "send the form as multipart/form-data"}}}
        ) from None
    return fields, file
