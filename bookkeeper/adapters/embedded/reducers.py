"""CouchDB's built-in reduce functions, evaluated in Python.

Integers stay Python integers, so `_sum` and `_stats` over ledger amounts are exact at any size
(CouchDB's Erlang reducers are exact too). Only the built-ins are offered: a JavaScript reduce
would have to give the same answer in two engines, and Kazbill's views do not need one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import zip_longest
from typing import Any

from bookkeeper.ports import InvalidQuery

BUILTIN_REDUCERS = ("_sum", "_count", "_stats")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _add(total: Any, value: Any, where: str) -> Any:
    if _is_number(value):
        if isinstance(total, list):
            raise InvalidQuery(f"{where}: _sum cannot add a number to an array")
        return (total or 0) + value
    if isinstance(value, list):
        if total is None or total == 0:
            total = []
        if not isinstance(total, list):
            raise InvalidQuery(f"{where}: _sum cannot add an array to a number")
        width = max(len(total), len(value))
        total = total + [0] * (width - len(total))
        for index, item in enumerate(value):
            total[index] = _add(total[index], item, where)
        return total
    if isinstance(value, dict):
        total = dict(total or {})
        for key, item in value.items():
            total[key] = _add(total.get(key), item, where)
        return total
    raise InvalidQuery(f"{where}: _sum can only add numbers, arrays of numbers and objects, got {value!r}")


def _whole_numbers(values: list[Any]) -> bool:
    return all(type(value) is int for value in values)


def reduce_sum(values: Iterable[Any], where: str) -> Any:
    values = list(values)
    # The common shapes added up at C speed: whole numbers, or arrays of whole numbers (a
    # reseller's totals over 10,000 customers: 220 ms through _add, member by member).
    if _whole_numbers(values):
        return sum(values)
    if all(type(value) is list and _whole_numbers(value) for value in values):
        return [sum(column) for column in zip_longest(*values, fillvalue=0)]
    total: Any = None
    for value in values:
        total = _add(total, value, where)
    return 0 if total is None else total


def reduce_count(values: Iterable[Any], where: str) -> int:
    return sum(1 for _ in values)


def _stats_of(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict) and {"sum", "count", "min", "max", "sumsqr"} <= value.keys():
        return dict(value)  # a pre-aggregated emit, which CouchDB also accepts
    if not _is_number(value):
        raise InvalidQuery(f"{where}: _stats can only aggregate numbers, got {value!r}")
    return {"sum": value, "count": 1, "min": value, "max": value, "sumsqr": value * value}


def reduce_stats(values: Iterable[Any], where: str) -> Any:
    result: dict[str, Any] | None = None
    for value in values:
        if isinstance(value, list):
            raise InvalidQuery(f"{where}: _stats over arrays is not supported by the embedded store")
        item = _stats_of(value, where)
        if result is None:
            result = item
            continue
        result = {
            "sum": result["sum"] + item["sum"],
            "count": result["count"] + item["count"],
            "min": min(result["min"], item["min"]),
            "max": max(result["max"], item["max"]),
            "sumsqr": result["sumsqr"] + item["sumsqr"],
        }
    return result


REDUCERS: dict[str, Callable[[Iterable[Any], str], Any]] = {
    "_sum": reduce_sum,
    "_count": reduce_count,
    "_stats": reduce_stats,
}


def reducer_for(source: str | None, where: str) -> Callable[[Sequence[Any], str], Any] | None:
    if source is None:
        return None
    name = source.strip()
    if name not in REDUCERS:
        raise InvalidQuery(f"{where}: reduce {name[:40]!r} is not supported; use one of {', '.join(BUILTIN_REDUCERS)}")
    return REDUCERS[name]
