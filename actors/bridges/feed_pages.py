"""A page of a database's changes feed, read and sorted so that no document in it can stop the feed.

The feed is read in pages and its checkpoint moves page by page, so one document that raises
would stop the feed for every account after it, at every restart. Here what the feed cannot read
or bill by becomes a FeedRejection, recorded in kazbill_failures (once per revision) while the
rest of the page goes on, and the checkpoint moves past it. Two places can fail:

- reading: the server's answer is decoded whole, and one document in it can make that fail (a
  value nested 1,200 levels deep, a number or text Python refuses). The page is then read again
  without its documents, and those fetched in halves, so that only the unreadable ones are left
  out, each named (a few more reads, and only for a page that has one);
- sorting: a document that matters to billing and holds what a later reader could not take
  (see wire_json), or that makes the sorting itself raise, is refused with its field named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actors.bridges.kazoo_messages import RELEVANT_DOC_TYPES
from actors.bridges.wire_json import wire_problem
from bookkeeper.domain.calls import CallRecordError, FinishedCall, call_from_cdr
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, is_account_id, parse_db_name
from bookkeeper.ports import Change, ChangesPage, DocumentStore, StoreError
from bookkeeper.services.setup.failures import record_failure

FEED_SOURCE = "couchdb_feed"


@dataclass(frozen=True)
class FeedRejection:
    doc_id: str
    rev: str
    reason_code: str
    field: str
    reason: str


@dataclass(frozen=True)
class SortedPage:
    accounts: list[str] = field(default_factory=list)  # reasons to bill again, each account once
    calls: list[FinishedCall] = field(default_factory=list)  # carrier legs from the CDRs, to rate
    rejected: list[FeedRejection] = field(default_factory=list)


def read_page(store: DocumentStore, db: str, since: str, limit: int) -> tuple[ChangesPage, list[FeedRejection]]:
    """The page after `since` with its documents, and those of its documents that could not be read."""
    try:
        return store.changes(db, since, limit=limit, include_docs=True), []
    except StoreError:
        raise  # the store's own trouble (unreachable, gone): not a document's
    except Exception:  # noqa: BLE001 - the answer could not be decoded: find the documents that cannot
        bare = store.changes(db, since, limit=limit, include_docs=False)
    docs, unreadable = _fetch_in_halves(store, db, [change.id for change in bare.changes if not change.deleted])
    changes = [
        Change(
            change.id,
            change.seq,
            change.rev,
            change.deleted,
            {"_id": change.id, "_rev": change.rev, "_deleted": True} if change.deleted else docs.get(change.id),
        )
        for change in bare.changes
    ]
    rejected = [
        FeedRejection(change.id, change.rev, "unreadable_document", "doc", unreadable[change.id])
        for change in bare.changes
        if change.id in unreadable
    ]
    return ChangesPage(changes, bare.last_seq), rejected


def _fetch_in_halves(store: DocumentStore, db: str, ids: Sequence[str]) -> tuple[dict, dict[str, str]]:
    if not ids:
        return {}, {}
    try:
        return dict(store.get_many(db, list(ids))), {}
    except StoreError:
        raise
    except Exception as error:  # noqa: BLE001 - narrowed down until it names one document
        if len(ids) == 1:
            return {}, {ids[0]: _described(error)}
    middle = len(ids) // 2
    first_docs, first_unreadable = _fetch_in_halves(store, db, ids[:middle])
    second_docs, second_unreadable = _fetch_in_halves(store, db, ids[middle:])
    return {**first_docs, **second_docs}, {**first_unreadable, **second_unreadable}


def sort_page(db: str, changes: Iterable[Change], *, calls_too: bool) -> SortedPage:
    """The accounts a page gives a reason to bill again, the calls its CDRs bill (`calls_too`), and
    the documents refused. Never raises: whatever one document does, the others are sorted."""
    page = SortedPage()
    for change in changes:
        try:
            accounts = accounts_changed(db, [change])
            is_cdr = calls_too and _is_cdr(db, change)
            problem = wire_problem(change.doc, "") if (accounts or is_cdr) and change.doc else None
            if problem is not None:
                page.rejected.append(FeedRejection(change.id, change.rev, problem.code, problem.field, problem.reason))
                continue
            call = call_from_cdr(dict(change.doc or {})) if is_cdr else None
        except CallRecordError as error:
            page.rejected.append(FeedRejection(change.id, change.rev, "bad_cdr", error.field, error.reason))
            continue
        except Exception as error:  # noqa: BLE001 - the same document would raise at every restart
            page.rejected.append(FeedRejection(change.id, change.rev, "unreadable_document", "doc", _described(error)))
            continue
        page.accounts.extend(account for account in accounts if account not in page.accounts)
        if call is not None and call.offnet:
            page.calls.append(call)
    return page


def record_rejections(store: DocumentStore, db: str, rejected: Iterable[FeedRejection], now_gregorian: int) -> None:
    """Each once: the record's id comes from the database, the document and its revision (a bad
    CDR's from the CDR alone, as it always was), so a page read again adds nothing."""
    name = parse_db_name(db)
    for rejection in rejected:
        account_id = name.account_id or (
            rejection.doc_id if db == ACCOUNTS_DB and is_account_id(rejection.doc_id) else None
        )
        if rejection.reason_code == "bad_cdr":
            source, payload = "cdr", {"database": db, "id": rejection.doc_id}
        else:
            source, payload = FEED_SOURCE, {"database": db, "id": rejection.doc_id, "rev": rejection.rev}
        record_failure(
            store,
            source=source,
            reason_code=rejection.reason_code,
            field=rejection.field,
            reason=rejection.reason,
            payload=payload,
            account_id=account_id,
            now_gregorian=now_gregorian,
        )


def accounts_changed(db: str, changes: Iterable[Change]) -> list[str]:
    """The accounts a page of changes gives a reason to look at again. Kazbill's own writes
    (ledger entries, its state documents) and documents that do not affect billing are left out,
    so that billing does not chase its own tail."""
    name = parse_db_name(db)
    found: list[str] = []
    for change in changes:
        if change.id.startswith("_design/") or change.id.startswith("kazbill_"):
            continue
        doc = change.doc or {}
        if name.kind == "accounts":
            if doc.get("pvt_type", "account") == "account" and is_account_id(change.id):
                found.append(change.id)
        elif name.kind == "services":
            # The account's services document (its id is the account's): a plan assigned or
            # removed in Kazoo (kz_services.erl:1164-1184) is billed now, not at the next crawl.
            if is_account_id(change.id) and (change.deleted or doc.get("pvt_type", "service") == "service"):
                found.append(change.id)
        elif name.kind in ("account", "account-month") and name.account_id:
            doc_type = doc.get("pvt_type")
            if change.deleted or (isinstance(doc_type, str) and doc_type in RELEVANT_DOC_TYPES) or _foreign_ledger(doc):
                found.append(name.account_id)
    return list(dict.fromkeys(found))


def _foreign_ledger(doc: Mapping[str, Any]) -> bool:
    """A ledger entry Kazoo (or a person) wrote moves the balance; Kazbill's own do not need a look."""
    metadata = doc.get("metadata")
    return doc.get("pvt_type") == "ledger" and not (isinstance(metadata, dict) and "kazbill" in metadata)


def _is_cdr(db: str, change: Change) -> bool:
    return (
        not change.deleted and parse_db_name(db).kind == "account-month" and (change.doc or {}).get("pvt_type") == "cdr"
    )


def _described(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text.encode("utf-8", "replace").decode("utf-8")[:200]
