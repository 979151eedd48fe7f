"""A reseller's customers, from the account directory (bookkeeper/domain/directory.py): every
account below a given one, by name, searched and filtered, a page at a time or all of them for
an export.

One view query walks the accounts below the given one in name order; each row carries what the
filters look at, so only the page's summaries are fetched (one request). A filter that matches
few rows walks further, in chunks, never loading more than a chunk at once. A search finds the
accounts with a word of their name or realm starting with each word typed ("beta cli" finds
Beta Clinic, "clinic" too) from an index of those words (one view query for the rarest-looking
word, then the candidates' summaries), instead of reading every account below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.billing.directory import DIRECTORY_DB

CHUNK = 500  # view rows read at once while walking
Position = tuple[str, str]  # (lower-cased name, account id): where a page starts
# What separates words, as the directory's words_by_ancestor view splits them: ASCII that is not a
# letter or digit (every character from U+00C0 on, Cyrillic and umlauts included, is a letter).
_SEPARATORS = re.compile("[^0-9a-z\u00c0-\uffff]+")


def words_of(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(text.lower()) if word]


@dataclass(frozen=True)
class CustomerFilter:
    search: str | None = None  # a part of the name or the realm, any case
    children_only: bool = False  # only the accounts directly below (else every descendant)
    standing: str | None = None  # good_standing | delinquent
    blocked: bool | None = None
    trial: bool | None = None  # in a trial now
    closed: bool = False  # closed accounts instead of open ones

    def admits(self, value: list[Any], now_gregorian: int) -> bool:
        """A by_ancestor row's value: [name, realm, depth, standing, blocked, trial_expires, closed]."""
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
            held = words_of(f"{name} {realm or ''}")
            return all(any(word.startswith(typed) for word in held) for typed in words_of(self.search))
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
    if wanted.search and words_of(wanted.search):
        matches = [
            match for match in _searched(store, above, wanted, now_gregorian) if start is None or match[0] >= start
        ]
        page, rest = matches[:page_size], matches[page_size : page_size + 1]
        return CustomerPage(_summaries(store, [account_id for _, account_id in page]), rest[0][0] if rest else None)
    found: list[tuple[Position, str]] = []
    for position, account_id in _matching(store, above, wanted, now_gregorian, start):
        found.append((position, account_id))
        if len(found) > page_size:
            break
    page, rest = found[:page_size], found[page_size:]
    return CustomerPage(_summaries(store, [account_id for _, account_id in page]), rest[0][0] if rest else None)


def _searched(
    store: DocumentStore, above: str, wanted: CustomerFilter, now_gregorian: int
) -> list[tuple[Position, str]]:
    """Every account below `above` the search and the filters admit, in name order. Candidates
    come from the index under the longest word typed (the most selective, as a rule), each row
    with what the filters look at: only the page's summaries are read afterwards."""
    typed = max(words_of(wanted.search or ""), key=len)
    rows = store.query_view(
        DIRECTORY_DB,
        "kazbill_directory",
        "words_by_ancestor",
        ViewQuery(start_key=[above, typed], end_key=[above, typed + "\ufff0"]),
    ).rows
    found = {
        str(row.id): (str(row.value[0]).lower(), str(row.id))
        for row in rows
        if wanted.admits(list(row.value), now_gregorian)
    }
    return sorted((position, account_id) for account_id, position in found.items())


def all_customers(
    store: DocumentStore, above: str, wanted: CustomerFilter, now_gregorian: int
) -> Iterator[dict[str, Any]]:
    """Every matching summary, in name order, fetched a chunk at a time (for an export)."""
    if wanted.search and words_of(wanted.search):
        found = [account_id for _, account_id in _searched(store, above, wanted, now_gregorian)]
        for first in range(0, len(found), CHUNK):
            yield from _summaries(store, found[first : first + CHUNK])
        return
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
