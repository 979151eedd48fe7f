"""An account's ledger documents read across its monthly databases, for the crossbar's ledger
endpoints. Kazoo's months are UTC (kazoo_modb:get_range, used by crossbar_view:load_modb), and a
document's id starts with the month of the database it is in (kz_ledger:fetch,
core/kazoo_ledgers/src/kz_ledger.erl:663-674). Entries Kazbill wrote before it followed the UTC
month may sit one month off either way, so a range is read with a month to spare on each side;
every document is then kept or left out by its own `pvt_created`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, next_month, previous_month
from crossbar_api.deps import ApiDeps
from crossbar_api.kazoo_ledgers import is_live_ledger

Month = tuple[int, int]
_MODB_ID = re.compile(r"^([0-9]{4})([0-9]{2})-(.+)$", re.DOTALL)
LOOK_AHEAD_MONTHS = 12  # how far after its prefix month a late entry is looked for


def utc_month(gregorian_seconds: int) -> Month:
    moment = datetime.fromtimestamp(from_gregorian_seconds(gregorian_seconds), UTC)
    return moment.year, moment.month


def _month_dbs(deps: ApiDeps, account_id: str, months: list[Month]) -> Iterator[str]:
    book = LedgerBook(deps.store, deps.design_docs)
    for month in months:
        db = book.month_db(account_id, month, create=False)
        if db is not None:
            yield db


def _created_rows(deps: ApiDeps, account_id: str, created_from: int, created_to: int, *, docs: bool) -> Iterator[tuple]:
    months = months_from(previous_month(utc_month(created_from)), next_month(utc_month(created_to)))
    for db in _month_dbs(deps, account_id, months):
        for row in deps.store.query_view(
            db,
            "kazbill_ledgers",
            "balance_by_created",
            ViewQuery(reduce=False, start_key=created_from, end_key=created_to, include_docs=docs),
        ).rows:
            yield db, row


def ledgers_created(deps: ApiDeps, account_id: str, created_from: int, created_to: int) -> list[dict[str, Any]]:
    return [
        row.doc
        for _, row in _created_rows(deps, account_id, created_from, created_to, docs=True)
        if is_live_ledger(row.doc)
    ]


def month_ledgers(deps: ApiDeps, account_id: str, month: Month) -> list[dict[str, Any]]:
    """Every live ledger document of one monthly database, whenever it was created."""
    rows = []
    for db in _month_dbs(deps, account_id, [month]):
        rows = deps.store.query_view(
            db, "kazbill_ledgers", "balance_by_created", ViewQuery(reduce=False, include_docs=True)
        ).rows
    return [row.doc for row in rows if row.doc is not None and is_live_ledger(row.doc)]


def source_rows(
    deps: ApiDeps, account_id: str, service: str, created_from: int, created_to: int
) -> list[tuple[int, str, str]]:
    """(created, id, database) of the ledgers of one source service created in the range, read
    from two views without their documents: only the page shown is fetched afterwards."""
    found = []
    of_service: dict[str, set[str]] = {}
    for db, row in _created_rows(deps, account_id, created_from, created_to, docs=False):
        if db not in of_service:
            of_service[db] = {
                hit.id
                for hit in deps.store.query_view(
                    db, "kazbill_ledgers", "balance_by_service", ViewQuery(reduce=False, key=[service])
                ).rows
                if hit.id is not None
            }
        if row.id in of_service[db]:
            found.append((row.key, row.id, db))
    return found


def fetch_page(deps: ApiDeps, rows: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    wanted: dict[str, list[str]] = {}
    for _, doc_id, db in rows:
        wanted.setdefault(db, []).append(doc_id)
    fetched = {(db, doc_id): doc for db, ids in wanted.items() for doc_id, doc in deps.store.get_many(db, ids).items()}
    return [fetched[(db, doc_id)] for _, doc_id, db in rows if is_live_ledger(fetched.get((db, doc_id)))]


def modb_month(doc_id: str) -> Month | None:
    match = _MODB_ID.match(doc_id)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        return None
    return int(match.group(1)), int(match.group(2))


def find_ledger(deps: ApiDeps, account_id: str, entry_id: str, now_gregorian: int) -> dict[str, Any] | None:
    """A ledger document by its id: in the month its prefix names, or, under that month's own
    prefix, in a later month it was carried to (written after its month was rolled over)."""
    first = modb_month(entry_id)
    if first is None:
        return None
    match = _MODB_ID.match(entry_id)
    assert match is not None  # modb_month matched it
    event = match.group(3)
    last = max(first, min(next_month(utc_month(now_gregorian)), _months_after(first, LOOK_AHEAD_MONTHS)))
    for month in months_from(first, last):
        for db in _month_dbs(deps, account_id, [month]):
            doc_id = f"{month[0]:04d}{month[1]:02d}-{event}"
            doc = deps.store.get_many(db, [doc_id]).get(doc_id)
            if is_live_ledger(doc):
                return doc
    return None


def _months_after(month: Month, count: int) -> Month:
    for _ in range(count):
        month = next_month(month)
    return month
