"""Built-in reductions SQLite can do itself, exactly, over integer values: an ungrouped _count or
_sum, and a _sum grouped by the first elements of array keys (group_level), the shape of every
"per account, per source" figure. Python's reducers take whatever else (values that are not
integers, a sum past 64 bits): each function answers None then.

Groups come in the index's order, the order of their first rows."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bookkeeper.adapters.embedded import collation
from bookkeeper.ports import ViewRow


def total(
    db: sqlite3.Connection, view_at: tuple[str, str, str], where: str, params: list[Any], reduce: str
) -> list[ViewRow] | None:
    if reduce not in ("_sum", "_count"):
        return None
    try:
        count, others, summed = db.execute(
            f"SELECT COUNT(*), COUNT(*) - COUNT(value_int), SUM(value_int) FROM view_rows "
            f"WHERE db = ? AND design_id = ? AND view = ?{where}",
            (*view_at, *params),
        ).fetchone()
    except (OverflowError, sqlite3.OperationalError) as error:
        _unless_past_64_bits(error)
        return None
    if count == 0:
        return []
    if reduce == "_count":
        return [ViewRow(key=None, value=count)]
    return None if others else [ViewRow(key=None, value=summed)]


def grouped_sum(
    db: sqlite3.Connection, view_at: tuple[str, str, str], where: str, params: list[Any], level: int
) -> list[ViewRow] | None:
    """SQLite adds up the rows of each distinct key (the stored JSON text, one pass over the
    range); the few distinct keys are then cut to `level` and merged here. Taking the parts out
    of every row's JSON in SQL, and checking every row's shape in a pass of its own, read each
    row's key three times over: 270 ms for a reseller's revenue over 10,000 customers, now 100."""
    scope = f"FROM view_rows WHERE db = ? AND design_id = ? AND view = ?{where}"
    try:
        rows = db.execute(
            f"SELECT key, SUM(value_int), COUNT(*) - COUNT(value_int), MIN(sort) AS first {scope} "
            "GROUP BY key ORDER BY first",
            (*view_at, *params),
        ).fetchall()
    except (OverflowError, sqlite3.OperationalError) as error:
        _unless_past_64_bits(error)
        return None
    if any(not_whole for _, _, not_whole, _ in rows):
        return None  # a value that is not an integer: Python's reducer adds up what SQLite cannot exactly
    groups: dict[bytes, list[Any]] = {}  # in the order of their first rows: a group's rows are contiguous
    for key_text, summed, _, _ in rows:
        key = json.loads(key_text)
        cut = key[:level] if isinstance(key, list) else key  # group_level leaves other keys whole
        at = collation.encode(cut)  # keys equal in collation are one group whatever their text
        if at in groups:
            groups[at][1] += summed
        else:
            groups[at] = [cut, summed]
    return [ViewRow(key=key, value=summed) for key, summed in groups.values()]


def _unless_past_64_bits(error: Exception) -> None:
    """A sum past 64 bits (SQLite says "integer overflow") is Python's to add up; anything else
    SQLite says is a real failure, raised again."""
    if isinstance(error, sqlite3.OperationalError) and "overflow" not in str(error):
        raise error
