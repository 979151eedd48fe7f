"""JSON from outside Kazbill (an AMQP body, a document from the changes feed), held to what every
later reader can take, so that one value cannot crash the process reading it.

Python's json reads a value nested 1,200 levels deep only to fail with RecursionError, reads
`1e999999` as infinity and `NaN` as a float that equals nothing, and keeps "\\ud800" as a lone
surrogate that no UTF-8 encoder, SQLite included, will write. Each of these passes one reader and
crashes a later one (a deep copy, json.dumps, the store). So a value is checked once, where it
comes in, and what fails is bad input naming its field, never an exception further on.
Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

# As deep as Kazbill's own stores take a value (bookkeeper/adapters/document_rules.py), far deeper
# than Kazoo's billing documents go, and far from where Python's recursive readers stop (near
# 1,000 frames; copy.deepcopy takes two a level, json.dumps one).
MAX_DEPTH = 64


@dataclass(frozen=True)
class WireProblem:
    """Why a value cannot be taken in: a stable code, the field (a dotted path), a reason for people."""

    code: str
    field: str
    reason: str


def decode_json(raw: bytes | str) -> tuple[Any, WireProblem | None]:
    """The value in `raw`, or None and the problem. Never raises, whatever `raw` holds."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        return None, WireProblem("too_deep", "body", f"nested deeper than {MAX_DEPTH} levels")
    except (ValueError, TypeError, ArithmeticError) as error:  # UnicodeDecodeError is a ValueError
        return None, WireProblem("malformed_json", "body", _short(f"not JSON: {error}"))
    return value, wire_problem(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def wire_problem(value: Any, field: str = "") -> WireProblem | None:
    """The first thing in an already decoded value that a later reader could not take, or None.
    Walked with an explicit stack: the check itself must not be what recurses too deep."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:  # named by the field it starts from: the whole path is 64 levels long
            top = re.split(r"[.\[]", path[len(field) :].lstrip("."), maxsplit=1)[0]
            where = f"{field}.{top}" if field and top else field or top
            return WireProblem("too_deep", _short(where) or "body", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if not _encodable(item):
                return WireProblem("invalid_text", _short(path) or "body", "text that is not valid Unicode")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return WireProblem("invalid_number", _short(path) or "body", f"{item} is not a finite number")
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or not _encodable(key):
                    return WireProblem("invalid_text", _short(path) or "body", "a key that is not valid Unicode")
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(text: str, limit: int = 200) -> str:
    """Reasons and field paths are read by people and stored: bounded, and valid Unicode."""
    return text.encode("utf-8", "replace").decode("utf-8")[:limit]
