"""Which days a daily crawl still owes. Pure."""

from __future__ import annotations

from datetime import date, timedelta


def days_to_crawl(last_crawled: date | None, today: date) -> list[date]:
    """Every day after the last one crawled, up to and including today. A reseller never crawled
    before starts today: what happened earlier was billed by the events as it happened, and the
    first crawl of a period still opens it in full."""
    if last_crawled is None or last_crawled >= today:
        return [] if last_crawled is not None else [today]
    return [last_crawled + timedelta(days=offset) for offset in range(1, (today - last_crawled).days + 1)]
