"""What a reseller's dashboard shows about the accounts below it: their totals per currency (from
the account directory: accounts, monthly recurring charges, delinquent, blocked, what the
accounts in debt owe), and what waits for a person (failures recorded for those accounts,
documents that could not be delivered).

The totals are one grouped view query. The failures and the undelivered documents are kept for
the whole installation, not per reseller; they are few (each is an exception a person clears),
so the newest are read and kept when their account is below the reseller (one directory read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.directory import DIRECTORY_DB
from bookkeeper.services.documents.document_queue import QUEUE_DB
from bookkeeper.services.setup.failures import FAILURES_DB

SCANNED = 2000  # the newest failures or jobs looked at; a dashboard lists a few of them


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    accounts: int
    monthly: int  # units: what the accounts' current quantities cost a month (MRR)
    delinquent: int
    blocked: int
    owed: int  # units: per account, its negative balance or what restores its service, whichever is more


@dataclass(frozen=True)
class Waiting:
    """Something a person has to look at: a failure or a document not delivered."""

    account_id: str
    account_name: str
    what: str  # the reason code, or the document's job state
    detail: str
    at: int  # Gregorian seconds


def totals_below(store: DocumentStore, account_id: str) -> list[CurrencyTotals]:
    rows = store.query_view(
        DIRECTORY_DB,
        "kazbill_directory",
        "totals_by_ancestor",
        ViewQuery(start_key=[account_id], end_key=[account_id, {}], group_level=2),
    ).rows
    return [CurrencyTotals(str(row.key[1]), *(int(value) for value in row.value)) for row in rows]


def failures_below(store: DocumentStore, account_id: str) -> list[Waiting]:
    """The failures recorded for accounts below (or of) `account_id`, newest first."""
    docs = _docs(store, FAILURES_DB, "kazbill_failures", "by_source", ViewQuery(reduce=False))
    return _below(
        store,
        account_id,
        [(doc.get("account_id"), doc.get("reason_code") or "", doc.get("reason") or "", doc) for doc in docs],
    )


def undelivered_below(store: DocumentStore, account_id: str) -> list[Waiting]:
    """Documents of accounts below `account_id` whose rendering or emailing gave up, newest first."""
    docs = _docs(
        store, QUEUE_DB, "kazbill_document_queue", "by_state", ViewQuery(key=["failed"], key_is_set=True, reduce=False)
    )
    return _below(store, account_id, [(doc.get("account_id"), "failed", doc.get("reason") or "", doc) for doc in docs])


def _docs(store: DocumentStore, db: str, design: str, view: str, query: ViewQuery) -> list[dict[str, Any]]:
    try:
        rows = store.query_view(db, design, view, query).rows
    except DatabaseNotFound:
        return []
    ids = [str(row.id) for row in rows][-SCANNED:]
    found = store.get_many(db, ids) if ids else {}
    return [found[doc_id] for doc_id in ids if doc_id in found]


def _below(store: DocumentStore, account_id: str, items: list[tuple[Any, str, str, dict[str, Any]]]) -> list[Waiting]:
    accounts = sorted({str(item[0]) for item in items if isinstance(item[0], str)})
    summaries = store.get_many(DIRECTORY_DB, accounts) if accounts else {}
    waiting = []
    for owner, what, detail, doc in items:
        summary = summaries.get(owner) if isinstance(owner, str) else None
        if summary is None or (owner != account_id and account_id not in (summary.get("tree") or [])):
            continue
        created = doc.get("pvt_created")
        at = created if isinstance(created, int) else 0
        waiting.append(Waiting(owner, str(summary.get("name") or owner), what, str(detail)[:300], at))
    return sorted(waiting, key=lambda item: item.at, reverse=True)
