"""The crawl's log: the days a daily crawl billed the account, one document per calendar month
in its monthly database, and the days its crawls missed (domain/crawl_days.days_missed).

A day's daily fee is charged by the crawl of that day; a day no crawl of the account logged
(its pass failed, the node that owned it left before crawling it, its reseller was set aside)
is charged by the account's next crawl, once, and then logged. Within the period the crawl
bills; and, at the first crawl of a period, the days the previous period's crawls missed (its
last day's crawl failing is the common case: nothing after it in that period can heal it). The
log of the period's first month says that this check was made (`earlier_period_checked`), so
that it reads the previous period's logs once a period, not at every crawl."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from bookkeeper.domain.crawl_days import days_missed
from bookkeeper.domain.ledger import day_levels
from bookkeeper.domain.periods import Period
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.billing.account_pass.growth import first_day, period_entries
from bookkeeper.services.billing.account_pass.inputs import PassInputs

CHECKED = "earlier_period_checked"


def logs_crawls(inputs: PassInputs) -> bool:
    """Whether a crawl pass keeps the crawl's log of the days it billed. Only daily fees read it
    (a day crawled again charges no fee), so a reseller charging none keeps none: a write less
    per account and day (on CouchDB one of the ten or so requests of an ordinary day, and a
    write costs the server several times a read). A reseller who starts charging daily mid-day
    has that day's fee charged by the account's next pass, crawl or live, up to the day's
    highest level once (the fee's entries say what the day was charged already)."""
    return inputs.crawl and "daily" in inputs.context.reseller.charging.values()


def crawl_log_id(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}-kazbill-crawl-log"


def crawled(inputs: PassInputs) -> bool:
    return inputs.today in logged(inputs, inputs.today)


def logged(inputs: PassInputs, day: date) -> set[date]:
    """The days the crawl log of `day`'s month holds (none when its month was never made)."""
    return {date.fromisoformat(text) for text in _log(inputs, day).get("days", []) if isinstance(text, str)}


def _log(inputs: PassInputs, day: date) -> dict[str, Any]:
    db = inputs.book.month_db(inputs.account_id, (day.year, day.month), create=False)
    if db is None:
        return {}
    log_id = crawl_log_id(day)
    return inputs.store.get_many(db, [log_id]).get(log_id) or {}


def missed_days(inputs: PassInputs, period: Period, *, also_logged: Collection[date] = ()) -> list[date]:
    """For a daily crawl of a day not crawled yet, the period's days before it that no crawl of
    the account logged: their fee is charged now, once, and they are logged with the day
    (priced again at each crawl, a day's quantities the history cannot tell would be taken as
    they are then, and a later rise charged back onto it). `also_logged`: days this pass
    charges and logs besides (the previous period's missed days: its last day then counts as
    logged, the fees running into this period)."""
    if not logs_crawls(inputs) or crawled(inputs):
        return []
    return _missed_in(inputs, period, inputs.today, set(also_logged))


def missed_before(inputs: PassInputs, period: Period) -> list[date] | None:
    """At a daily crawl of `period` not made yet, the days of the period before it that no
    crawl logged, checked once a period (the log of its first month says so once this pass
    logs its day). None when this pass does not check them (checked before, or not a crawl
    that logs)."""
    if (
        not logs_crawls(inputs)
        or crawled(inputs)
        or _log(inputs, period.start).get(CHECKED) == period.start.isoformat()
    ):
        return None
    return _missed_in(inputs, period.previous(), period.start, set())


def _missed_in(inputs: PassInputs, period: Period, until: date, also_logged: set[date]) -> list[date]:
    """The days of `period` before `until` no crawl logged (days_missed). The fees ran from
    `since` (the period's first day, or the account's first billed day) when `since` or the
    day before it is logged, or `since` was charged a daily fee (a new account's first day, by
    its first pass; an expired trial's first billed day, by the first pass after it); each is
    read only when the ones before did not tell. The period spans two calendar months at most,
    so two logs."""
    since = max(period.start, first_day(inputs))
    if since >= until:
        return []
    found = {day for month_start in _months_of(period.start, until) for day in logged(inputs, month_start)}
    found |= also_logged
    day_before = since - timedelta(days=1)
    ran_before = (
        since in found
        or day_before in also_logged
        or day_before in logged(inputs, day_before)
        or _fee_charged(inputs, period, since)
    )
    return days_missed(since=since, today=until, logged=found, ran_before=ran_before)


def _fee_charged(inputs: PassInputs, period: Period, day: date) -> bool:
    """Whether `day` was charged a daily fee: a new account's first day is charged by its
    first pass, an event's, which does not log it. A day neither logged nor charged says
    nothing of the days after it (the reseller may not have charged anything daily then)."""
    return bool(day_levels(period_entries(inputs, period), day).levels)


def _months_of(start: date, end: date) -> list[date]:
    """The first day of each calendar month from `start`'s to `end`'s."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def mark_crawled(inputs: PassInputs, period: Period, missed: Collection[date], *, checked_before: bool) -> None:
    """Today, and the missed days charged with it, in their months' logs; in the log of the
    period's first month, that the previous period's missed days were checked, when this pass
    checked them (`checked_before`)."""
    days = [inputs.today, *missed]
    first_month = period.start.replace(day=1)
    months = {day.replace(day=1) for day in days} | ({first_month} if checked_before else set())
    for month_start in sorted(months):
        new = {day.isoformat() for day in days if day.replace(day=1) == month_start}
        checked = {CHECKED: period.start.isoformat()} if checked_before and month_start == first_month else {}
        db = inputs.book.month_db(inputs.account_id, (month_start.year, month_start.month), create=True)
        log_id = crawl_log_id(month_start)
        log = inputs.store.get_many(db, [log_id]).get(log_id) or {"pvt_type": "kazbill_crawl_log", "days": []}
        if not new <= set(log.get("days", [])) or any(log.get(key) != value for key, value in checked.items()):
            update_doc(
                inputs.store,
                db,
                log_id,
                {"days": sorted({*log.get("days", []), *new}), **checked},
                default={"pvt_type": "kazbill_crawl_log"},
            )
