"""A reseller's customers, from the account directory (bookkeeper/domain/directory.py): every
account below a given one, by name, searched and filtered, a page at a time or all of them for
an export.

One view query walks the accounts below the given one in name order; each row carries what the
filters look at, so only the page's summaries are fetched (one request). A search or a filter
that matches few rows walks further, in chunks, never loading more than a chunk at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.billing.directory import DIRECTORY_DB

CHUNK = 500  # view rows read at once while walking
Position = tuple[str, str]  # (lower-cased name, account id): where a page starts


@dataclass(frozen=True)
class CustomerFilter:
    search: str | None = None  # a part of the name or the realm, any case
    children_only: bool = False  # only the accounts directly below (else every descendant)
    standing: str | None = None  # good_standing | delinquent
    blocked: bool | None = None
    trial: bool | None = None  # in a trial now
    closed: bool = False  # closed accounts instead of open ones

    def admits(self, value: list[Any], now_gregorian: int) -> bool:
        name, realm, depth, standing, blocked, trial_expires, closed = value
        if closed != self.closed or (self.children_only and depth != 1):
            return False
        if self.standing is not None and standing != self.standing:
            return False
        if self.blocked is not None and blocked != self.blocked:
            return False
        if self.trial is not None and (isinstance(trial_expires, int) and trial_expires > now_gregorian) != self.trial:
            return False
        if self.search:
            wanted = self.search.casefold()
            return wanted in str(name).casefold() or wanted in str(realm or "").casefold()
        return True


@dataclass(frozen=True)
class CustomerPage:
    summaries: list[dict[str, Any]]  # in name order
    next_position: Position | None  # where the next page starts; None on the last page


def customers_page(
    store: DocumentStore,
    above: str,
    wanted: CustomerFilter,
    now_gregorian: int,
    *,
    page_size: int,
    start: Position | None = None,
) -> CustomerPage:
    found: list[tuple[Position, str]] = []
    for position, account_id in _matching(store, above, wanted, now_gregorian, start):
        found.append((position, account_id))
        if len(found) > page_size:
            break
    page, rest = found[:page_size], found[page_size:]
    return CustomerPage(_summaries(store, [account_id for _, account_id in page]), rest[0][0] if rest else None)


def all_customers(
    store: DocumentStore, above: str, wanted: CustomerFilter, now_gregorian: int
) -> Iterator[dict[str, Any]]:
    """Every matching summary, in name order, fetched a chunk at a time (for an export)."""
    chunk: list[str] = []
    for _, account_id in _matching(store, above, wanted, now_gregorian, None):
        chunk.append(account_id)
        if len(chunk) == CHUNK:
            yield from _summaries(store, chunk)
            chunk = []
    yield from _summaries(store, chunk)


def _matching(
    store: DocumentStore, above: str, wanted: CustomerFilter, now_gregorian: int, start: Position | None
) -> Iterator[tuple[Position, str]]:
    key: list[Any] = [above, *start] if start else [above]
    skip = 0  # the first chunk starts at `start` itself; the next ones after the last row read
    while True:
        rows = store.query_view(
            DIRECTORY_DB,
            "kazbill_directory",
            "by_ancestor",
            ViewQuery(start_key=key, end_key=[above, {}], limit=CHUNK, skip=skip),
        ).rows
        for row in rows:
            if wanted.admits(list(row.value), now_gregorian):
                yield (row.key[1], row.key[2]), str(row.id)
        if len(rows) < CHUNK:
            return
        key, skip = list(rows[-1].key), 1


def _summaries(store: DocumentStore, account_ids: list[str]) -> list[dict[str, Any]]:
    if not account_ids:
        return []
    found = store.get_many(DIRECTORY_DB, account_ids)
    return [found[account_id] for account_id in account_ids if account_id in found]
