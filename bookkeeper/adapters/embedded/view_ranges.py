"""A view query's key range in the embedded index's byte order (collation.py), and the SQL that
selects it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bookkeeper.adapters.embedded import collation
from bookkeeper.ports import ViewQuery

_HIGH = collation.HIGH


def bounds_of(query: ViewQuery, encode: Callable[[Any], bytes], encode_id: Callable[[str], bytes]):
    """(lower, lower_inclusive, upper, upper_inclusive) in the index's byte order."""
    if query.has_key():
        key = encode(query.key)
        return key, True, key + _HIGH, True
    first = last = None
    first_inclusive = last_inclusive = True
    start = None if query.start_key is None else encode(query.start_key)
    end = None if query.end_key is None else encode(query.end_key)
    start_id = None if query.start_key_doc_id is None else encode_id(query.start_key_doc_id)
    end_id = None if query.end_key_doc_id is None else encode_id(query.end_key_doc_id)
    # In index order the start bound is the low one; descending swaps the roles.
    if start is not None:
        first = start + (start_id if start_id is not None else b"")
        if query.descending:
            first = start + (start_id if start_id is not None else _HIGH)
    if end is not None:
        if query.inclusive_end:
            last = end + (end_id if end_id is not None else (b"" if query.descending else _HIGH))
        else:
            last_inclusive = False
            last = end + (end_id if end_id is not None else (_HIGH if query.descending else b""))
    if query.descending:
        return last, last_inclusive, first, first_inclusive
    return first, first_inclusive, last, last_inclusive


def where_in(column: str, bounds) -> tuple[str, list[Any]]:
    lower, lower_inclusive, upper, upper_inclusive = bounds
    clauses, params = [], []
    if lower is not None:
        clauses.append(f"{column} {'>=' if lower_inclusive else '>'} ?")
        params.append(lower)
    if upper is not None:
        clauses.append(f"{column} {'<=' if upper_inclusive else '<'} ?")
        params.append(upper)
    return "".join(f" AND {clause}" for clause in clauses), params


def page_of(items: list[Any], query: ViewQuery) -> list[Any]:
    """The rows `skip` and `limit` leave of an answer."""
    end = None if query.limit is None else query.skip + query.limit
    return items[query.skip : end]
