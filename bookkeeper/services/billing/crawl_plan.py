"""The daily crawl's plan: for each reseller, the local days it still owes and the accounts it
bills, and the record of each day finished (in kazbill_system, one document per reseller).

A day is recorded only once every account of it was crawled, so a crawl cut short (a crash, the
store going away) is resumed at the next pass; crawling an account twice for a day is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bookkeeper.domain.crawl_days import days_to_crawl
from bookkeeper.domain.kazoo_names import (
    ACCOUNTS_DB,
    SERVICES_DB,
    SYSTEM_DB,
    InvalidAccountId,
    account_db,
    gregorian_of,
    is_account_id,
)
from bookkeeper.domain.periods import day_start_utc, local_day
from bookkeeper.domain.settings import ONBILL_DOC_ID, SettingsError, master_of, reseller_settings
from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.setup.failures import record_failure


@dataclass(frozen=True)
class CrawlJob:
    reseller_id: str
    day: date
    account_ids: tuple[str, ...]


def _state_id(reseller_id: str, node: str | None = None) -> str:
    """One record per reseller; in a cluster, one per reseller and node (each node crawls the
    accounts it owns)."""
    return f"kazbill_crawl-{reseller_id}" + (f"@{node}" if node else "")


def resellers(store: DocumentStore) -> list[str]:
    """Every account that bills others: the masters (accounts with no parent) and the accounts
    whose services document says pvt_reseller."""
    roots = store.query_view(
        ACCOUNTS_DB, "kazbill_accounts", "by_parent", ViewQuery(start_key=[None], end_key=[None, {}])
    ).rows
    flagged = (
        store.query_view(SERVICES_DB, "kazbill_services", "resellers").rows
        if store.database_exists(SERVICES_DB)
        else []
    )
    return sorted({row.id for row in roots if row.id is not None} | {row.key for row in flagged})


def descendants(store: DocumentStore, account_id: str) -> list[str]:
    rows = store.query_view(
        ACCOUNTS_DB,
        "kazbill_accounts",
        "by_ancestor",
        ViewQuery(start_key=[account_id], end_key=[account_id, {}], reduce=False),
    ).rows
    return [row.key[2] for row in rows]


def plan_crawls(
    store: DocumentStore, now: datetime, node: str | None = None
) -> tuple[list[CrawlJob], list[tuple[str, str]]]:
    """(jobs in the order to run them, resellers whose settings cannot be read with the reason).
    Each reseller's accounts are its descendants minus those a deeper reseller bills. A reseller
    that cannot be planned (its settings, or a services document flagging as a reseller an id
    that is no account's) is set aside with the reason, never the whole plan: one such document
    stopped every reseller's crawl, every day. Only the store's outage stops it (the next tick)."""
    all_resellers = resellers(store)
    reseller_set = set(all_resellers)
    subtrees = {reseller: descendants(store, reseller) for reseller in all_resellers}
    jobs: list[CrawlJob] = []
    broken: list[tuple[str, str]] = []
    for reseller_id in all_resellers:
        try:
            if not is_account_id(reseller_id):
                raise InvalidAccountId(reseller_id)
            timezone = reseller_timezone(store, reseller_id)
        except (SettingsError, InvalidAccountId) as error:
            broken.append((reseller_id, str(error)))
            continue
        today = local_day(now, timezone)
        state = get_or_none(store, SYSTEM_DB, _state_id(reseller_id, node)) or {}
        last = date.fromisoformat(state["last_day"]) if state.get("last_day") else None
        days = days_to_crawl(last, today)
        if not days:
            continue
        below = {account for child in subtrees[reseller_id] if child in reseller_set for account in subtrees[child]}
        accounts = tuple(account for account in subtrees[reseller_id] if account not in below)
        first_owed_began = gregorian_of(day_start_utc(days[0], timezone))
        accounts += closed_since(store, reseller_id, reseller_set, first_owed_began)
        jobs.extend(CrawlJob(reseller_id, day, accounts) for day in days)
    return jobs, broken


def record_crawl_refusals(store: DocumentStore, broken: list[tuple[str, str]], now_gregorian: int) -> None:
    """Each reseller plan_crawls set aside, as a failure for a person (once for each reason: its
    id is made of the reseller and the reason). Its crawl record does not move: once fixed, the
    days since it was last crawled are crawled (one never crawled yet: from the day it is fixed).
    A sub-reseller set aside keeps its customers out of its parent's crawl meanwhile."""
    for reseller_id, reason in broken:
        record_failure(
            store,
            source="scheduler",
            reason_code="reseller_not_crawled",
            reason=reason,
            payload={"reseller_id": reseller_id, "reason": reason},
            account_id=reseller_id if is_account_id(reseller_id) else None,
            now_gregorian=now_gregorian,
        )


def closed_since(
    store: DocumentStore, reseller_id: str, reseller_set: set[str], since_gregorian: int
) -> tuple[str, ...]:
    """The accounts this reseller bills that closed after `since` (the start of the first day a
    crawl still owes): open when that day began, they owe it (billing skips the days after)."""
    rows = store.query_view(
        ACCOUNTS_DB,
        "kazbill_accounts",
        "closed_by_ancestor",
        ViewQuery(start_key=[reseller_id, since_gregorian], end_key=[reseller_id, {}]),
    ).rows
    billed_here = [
        row for row in rows if next((a for a in reversed(row.value or []) if a in reseller_set), None) == reseller_id
    ]
    return tuple(sorted({row.id for row in billed_here if row.id is not None}))


def reseller_timezone(store: DocumentStore, reseller_id: str) -> str:
    account_doc = get_or_none(store, ACCOUNTS_DB, reseller_id) or {"_id": reseller_id, "pvt_tree": []}
    master_id = master_of(account_doc)
    settings = reseller_settings(
        reseller_id,
        get_or_none(store, account_db(reseller_id), ONBILL_DOC_ID),
        get_or_none(store, account_db(master_id), ONBILL_DOC_ID),
        master_id=master_id,
    )
    return settings.timezone


def mark_crawled(store: DocumentStore, reseller_id: str, day: date, node: str | None = None) -> None:
    doc_id = _state_id(reseller_id, node)
    current = get_or_none(store, SYSTEM_DB, doc_id) or {"_id": doc_id, "pvt_type": "kazbill_crawl_state"}
    if current.get("last_day") and date.fromisoformat(current["last_day"]) >= day:
        return
    store.ensure_database(SYSTEM_DB)
    store.put(SYSTEM_DB, {**current, "reseller_id": reseller_id, "last_day": day.isoformat()})


def fall_back(store: DocumentStore, node: str, nodes: list[str]) -> None:
    """When the cluster changes, this node's crawl of each reseller goes back to the earliest
    day any of `nodes` (the cluster before and after the change, and a single node's record)
    had crawled, so that the days a node that left still owed are crawled by the accounts' new
    owners. Crawling again an account's day already crawled charges nothing."""
    store.ensure_database(SYSTEM_DB)
    for reseller_id in resellers(store):
        ids = [_state_id(reseller_id)] + [_state_id(reseller_id, other) for other in {*nodes, node}]
        found = store.get_many(SYSTEM_DB, ids)
        days = [date.fromisoformat(doc["last_day"]) for doc in found.values() if doc.get("last_day")]
        if not days:
            continue
        earliest = min(days).isoformat()
        mine = found.get(_state_id(reseller_id, node)) or {
            "_id": _state_id(reseller_id, node),
            "pvt_type": "kazbill_crawl_state",
            "reseller_id": reseller_id,
        }
        if mine.get("last_day") != earliest:
            store.put(SYSTEM_DB, {**mine, "last_day": earliest})
