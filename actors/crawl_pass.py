"""A crawl pass of the scheduler (actors/scheduler.py), as it goes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bookkeeper.services.billing.crawl_plan import CrawlJob


@dataclass
class CrawlPass:
    """One crawl pass of the scheduler: the jobs (a reseller's day each) left, the one being sent
    in chunks, and what the shards answered."""

    jobs: deque[CrawlJob]
    waiting: list = field(default_factory=list)  # who asked for this pass (CrawlNow senders)
    job: CrawlJob | None = None
    accounts_left: deque[str] = field(default_factory=deque)  # the job's, not yet sent
    in_flight: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (accounts, sent at)
    job_clean: bool = True
    # A reseller whose day stays owed because the shards handed back an account or a few while
    # they billed the rest (the store refusing those alone): its later days wait for it, the
    # other resellers' jobs go on. One such reseller a pass; a second, or a chunk handed back
    # whole (the store away), stops the pass: `stopped`.
    passed_over: set[str] = field(default_factory=set)
    stopped: bool = False
    crawled: list[tuple[str, str]] = field(default_factory=list)
    accounts: int = 0
    failed: int = 0
    not_done: int = 0
