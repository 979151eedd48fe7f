"""Built-in reductions SQLite can do itself, exactly, over integer values: an ungrouped _count or
_sum, and a _sum grouped by the first elements of array keys (group_level), the shape of every
"per account, per source" figure. Python's reducers take whatever else (other values, keys that
are not arrays long enough, a sum past 64 bits): each function answers None then.

A group's key is the JSON SQLite reads out of the stored key (stored as compact JSON, so equal
values read the same); groups come in the index's order, the order of their first rows."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

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
    if not 1 <= level <= 8 or sqlite3.sqlite_version_info < (3, 38):  # `->` came with 3.38
        return None
    parts = ", ".join(f"key -> '$[{index}]'" for index in range(level))
    scope = f"FROM view_rows WHERE db = ? AND design_id = ? AND view = ?{where}"
    unfit = db.execute(
        f"SELECT COUNT(*) - COUNT(value_int) + SUM(json_type(key) != 'array' OR json_array_length(key) < ?) {scope}",
        (level, *view_at, *params),
    ).fetchone()[0]
    if unfit:  # None (no rows) is no reason to hand it over
        return None
    try:
        groups = db.execute(
            f"SELECT {parts}, SUM(value_int), MIN(sort) AS first {scope} GROUP BY {parts} ORDER BY first",
            (*view_at, *params),
        ).fetchall()
    except (OverflowError, sqlite3.OperationalError) as error:
        _unless_past_64_bits(error)
        return None
    return [ViewRow(key=[json.loads(part) for part in group[:level]], value=group[level]) for group in groups]


def _unless_past_64_bits(error: Exception) -> None:
    """A sum past 64 bits (SQLite says "integer overflow") is Python's to add up; anything else
    SQLite says is a real failure, raised again."""
    if isinstance(error, sqlite3.OperationalError) and "overflow" not in str(error):
        raise error
