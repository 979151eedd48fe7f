"""A reseller's per-minute rate decks over the API:

    PUT .../rate_decks/{deck}         the deck as CSV (Content-Type: text/csv): all rows or none;
                                      400 lists each bad line and column. A deck of more than
                                      INLINE_ROWS rows is imported by the service as a job:
                                      202 with the job's id, its progress at
    GET .../rate_decks/{deck}/imports/{job_id}
    GET .../rate_decks/{deck}/rate?number=&seconds=&direction=
                                      which rate a number takes, and what a call of `seconds` costs
Only the reseller itself or an account above it; writing needs an admin."""

from __future__ import annotations

import falcon

from bookkeeper.domain.money import UNITS_PER_MAJOR, to_major
from bookkeeper.domain.rating import call_cost
from bookkeeper.ports import gregorian_now
from bookkeeper.services.payments.gateway_settings import NotAReseller
from bookkeeper.services.rating.rate_deck_jobs import accept_import, import_job
from bookkeeper.services.rating.rate_decks import import_rate_deck, load_rate_deck
from crossbar_api.access import reseller_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid

MAX_DECK_BYTES = 64 * 1024 * 1024  # a 100,000-prefix deck is about 5 MB
# A deck this size imports in a second or two; a larger one could outlast gunicorn's worker
# timeout, which would kill the import with the worker: it runs in the service instead.
INLINE_ROWS = 20_000


class RateDeckCsv:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str, deck: str) -> None:
        reseller_for(req, self.deps, account_id, write=True)
        if (req.content_type or "").split(";")[0].strip() not in ("text/csv", "text/plain"):
            raise ApiError(415, None, {"content_type": {"csv": {"message": "send the deck as text/csv"}}})
        raw = req.bounded_stream.read(MAX_DECK_BYTES + 1)
        if len(raw) > MAX_DECK_BYTES:
            raise invalid("data", "size", f"a deck is limited to {MAX_DECK_BYTES} bytes")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise invalid("data", "encoding", "the CSV must be UTF-8") from None
        lines = text.splitlines()
        if len(lines) - 1 > INLINE_ROWS:
            self._accept(req, resp, account_id, deck, raw)
            return
        now = gregorian_now(self.deps.clock)
        try:
            result = import_rate_deck(self.deps.store, account_id, deck, lines, now=now)
        except NotAReseller as error:
            raise ApiError(404, "bad identifier", {"account_id": {"reseller": {"message": str(error)}}}) from None
        except ValueError as error:
            raise invalid("deck", "name", str(error)) from None
        if not result.report.ok:
            raise ApiError(
                400,
                "invalid data",
                {
                    f"line {line}.{column}": {"csv": {"message": reason}}
                    for line, column, reason in result.report.errors
                },
            )
        answer(req, resp, {"deck": deck, "rates": result.written, "removed": result.removed})

    def _accept(self, req: falcon.Request, resp: falcon.Response, account_id: str, deck: str, raw: bytes) -> None:
        caller = req.context.caller
        try:
            job_id = accept_import(
                self.deps.store,
                account_id,
                deck,
                raw,
                by=f"{caller.account_id}/{caller.user_id or 'api_key'}",
                now=gregorian_now(self.deps.clock),
            )
        except NotAReseller as error:
            raise ApiError(404, "bad identifier", {"account_id": {"reseller": {"message": str(error)}}}) from None
        except ValueError as error:
            raise invalid("deck", "name", str(error)) from None
        resp.location = f"{req.path}/imports/{job_id}"
        answer(req, resp, {"deck": deck, "job_id": job_id, "state": "queued"}, status=202)


class RateDeckImport:
    """A large import's progress: queued, running (rows written so far), done, or failed with the
    reason (and each bad line); the deck in use is the old one until it is done."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, deck: str, job_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        job = import_job(self.deps.store, account_id, job_id)
        if job is None or job.get("deck") != deck:
            raise ApiError(404, "bad identifier", {"job_id": {"exists": {"message": f"no import {job_id} of {deck}"}}})
        answer(req, resp, job)


class RateLookup:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, deck: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        number = (req.get_param("number") or "").strip()
        if not number.lstrip("+").isdigit() or len(number) > 20:
            raise invalid("number", "format", "an E.164 number, digits with an optional +")
        seconds = req.get_param_as_int("seconds", min_value=0, max_value=86_400) or 0
        direction = req.get_param("direction")
        if direction not in (None, "inbound", "outbound"):
            raise invalid("direction", "enum", "inbound or outbound")
        try:
            rate = load_rate_deck(self.deps.store, account_id, deck).find(number, direction)
        except ValueError as error:
            raise invalid("deck", "name", str(error)) from None
        if rate is None:
            raise ApiError(
                404,
                "bad identifier",
                {
                    "number": {
                        "rate": {"message": f"no rate in {deck} for {number}: such a call is recorded as unrated"}
                    }
                },
            )
        cost = call_cost(rate, seconds)
        answer(
            req,
            resp,
            {
                "rate": {
                    "id": rate.rate_id,
                    "name": rate.name,
                    "prefix": rate.prefix,
                    "rate_cost": rate.cost_per_minute / UNITS_PER_MAJOR,
                    "rate_increment": rate.increment_s,
                    "rate_minimum": rate.minimum_s,
                    "rate_nocharge_time": rate.nocharge_s,
                    "rate_surcharge": rate.surcharge / UNITS_PER_MAJOR,
                    "direction": list(rate.direction),
                },
                "seconds": seconds,
                "billed_seconds": cost.billed_seconds,
                "cost": to_major(cost.amount),
            },
        )
