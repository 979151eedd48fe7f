"""What a stored failure asks to be done again (`kazbill failures replay`). Three kinds are work
the shards failed for good and can be handed to them again as it was: a shard's work it hung on
or died on twice (`shard_work_failed`: its kind, day, accounts and calls), an account's pass
that raised twice or that the store refused alone five times (`billing_crashed`,
`billing_store_refused`: its account and day), and a call whose rating raised twice or was
refused so (`rating_crashed`, `rating_store_refused`: the call). Billing is idempotent, so a replay
charges only what the failure left unbilled: a crawl's daily fee for the day (which the
account's next crawl charges too, but only within the period), a change's charge, a call. The other
failures are about data a person corrects first (a malformed message, a document refused for a
field), and are not replayed from here. Pure: the CLI reads the record and hands the work over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import is_account_id

REPLAYABLE = ("shard_work_failed", "billing_crashed", "billing_store_refused", "rating_crashed", "rating_store_refused")
# A shard's work it died on twice: replayed, it may kill the shard twice more, two restarts of
# the service's budget each (5 in 60 s by default; past it `serve` gives up). Only when told.
DIED_TWICE = "the shard process died twice on this work"
Kind = Literal["reconcile", "crawl", "rate"]  # as actors.messages.WorkKind
KINDS: dict[str, Kind] = {"reconcile": "reconcile", "crawl": "crawl", "rate": "rate"}


class NotReplayable(ValueError):
    """The record names no work the shards can be handed again; the message says why."""


@dataclass(frozen=True)
class ReplayWork:
    kind: Kind
    account_ids: tuple[str, ...]
    day: str | None  # ISO, for a crawl
    calls: tuple[FinishedCall, ...] = ()


def replay_work(record: Mapping[str, Any]) -> ReplayWork:
    code = record.get("reason_code")
    if record.get("pvt_type") != "failure" or code not in REPLAYABLE:
        raise NotReplayable(f"a {code or 'record'} is corrected by a person, not replayed (replayable: {REPLAYABLE})")
    payload = record.get("payload") or {}
    if code in ("rating_crashed", "rating_store_refused"):
        call = _call(payload.get("call"))
        return ReplayWork("rate", (call.account_id,), None, (call,))
    if code in ("billing_crashed", "billing_store_refused"):
        account, day = payload.get("account_id"), payload.get("day")
        return ReplayWork("crawl" if day else "reconcile", (_account(account),), _day(day))
    kind = KINDS.get(str(payload.get("kind")))
    if kind is None:
        raise NotReplayable(f"payload.kind {payload.get('kind')!r} is none of {tuple(KINDS)}")
    if kind == "rate":
        calls = tuple(_call(call) for call in payload.get("calls") or ())
        if not calls:
            raise NotReplayable("payload.calls: a rating failure with no calls")
        return ReplayWork("rate", tuple(call.account_id for call in calls), None, calls)
    accounts = tuple(_account(account) for account in payload.get("account_ids") or ())
    if not accounts:
        raise NotReplayable("payload.account_ids: no accounts")
    return ReplayWork(kind, accounts, _day(payload.get("day")) if kind == "crawl" else None)


def kills_shards(record: Mapping[str, Any]) -> bool:
    """Whether replaying the record may kill a shard twice (see DIED_TWICE)."""
    return record.get("reason_code") == "shard_work_failed" and record.get("reason") == DIED_TWICE


def _account(value: Any) -> str:
    if not isinstance(value, str) or not is_account_id(value):
        raise NotReplayable(f"payload: {value!r} is not a Kazoo account id")
    return value


def _day(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise NotReplayable(f"payload.day {value!r} is not an ISO date") from None


def _call(value: Any) -> FinishedCall:
    names = {field.name for field in fields(FinishedCall)}
    if not isinstance(value, Mapping) or not {"account_id", "call_id"} <= value.keys() <= names:
        raise NotReplayable(f"payload.calls: {str(value)[:200]} is not a call as the shard stored it")
    kept = dict(value)
    kept["jonny5_levels"] = tuple(kept.get("jonny5_levels") or ())
    try:
        call = FinishedCall(**kept)
    except TypeError as error:
        raise NotReplayable(f"payload.calls: {error}") from None
    _account(call.account_id)
    return call
