"""Which days a daily crawl still owes, and which days an account's crawls missed. Pure."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta


def days_to_crawl(last_crawled: date | None, today: date) -> list[date]:
    """Every day after the last one crawled, up to and including today. A reseller never crawled
    before starts today: what happened earlier was billed by the events as it happened, and the
    first crawl of a period still opens it in full."""
    if last_crawled is None or last_crawled >= today:
        return [] if last_crawled is not None else [today]
    return [last_crawled + timedelta(days=offset) for offset in range(1, (today - last_crawled).days + 1)]


def days_missed(*, since: date, today: date, logged: Collection[date], ran_before: bool) -> list[date]:
    """The days from `since` to the day before `today` that no crawl of the account logged,
    while its crawls were logging (they log only while its reseller charges something daily).

    Such a day's daily fee was charged by nothing: the account's pass failed that day, or the
    node that owned it left before crawling it, or its reseller was set aside. `since` is the
    first day the account can owe in its period (the period's start, or the day it was created).
    The missed days run from `since` when the fees were running already (`since` is logged, or
    `ran_before`: the day before it was, or the account was created that day, its first pass
    charging it); else from the first day logged since, so that the days before a reseller
    began charging daily owe nothing. No day logged since and none before: nothing is known to
    be owed."""
    if since >= today:
        return []
    if since in logged or ran_before:
        first = since
    else:
        logged_since = [day for day in logged if since < day < today]
        if not logged_since:
            return []
        first = min(logged_since)
    return [day for day in (first + timedelta(days=n) for n in range((today - first).days)) if day not in logged]
