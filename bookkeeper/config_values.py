"""How each setting's text (from the environment or TOML) becomes its value; each parser raises
ValueError with the reason, which `load_settings` reports with the setting's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _text(value)


def _positive_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if number <= 0:
        raise ValueError("must be greater than zero")
    return number


def _count(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("must be a whole number") from None
    if not 0 <= number <= 1_000_000:
        raise ValueError("must be between 0 and 1,000,000")
    return number


def _passes(value: Any) -> int:
    number = _count(value)
    if number > 64:
        raise ValueError("must be between 0 and 64 (0: chosen by store)")
    return number


# The bridges wait this long for a batch's answer (actors/system.py), then put it back on the queue.
HAND_OFF_TIMEOUT_S = 120.0
# What a hung shard's failure needs after its deadline to reach the bridge still waiting for it:
# the kill, Thespian noticing the exit, the failure record, the answer.
HANG_ANSWER_MARGIN_S = 20.0


def _work_deadline(value: Any) -> float:
    number = _positive_number(value)
    if number > HAND_OFF_TIMEOUT_S - HANG_ANSWER_MARGIN_S:
        raise ValueError(
            f"must be at most {HAND_OFF_TIMEOUT_S - HANG_ANSWER_MARGIN_S:g} s: the bridges wait "
            f"{HAND_OFF_TIMEOUT_S:g} s for a batch, and a hung shard's failure must reach them before"
        )
    return number


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError("must be an integer port number") from None
    if not 0 < port < 65536:
        raise ValueError("must be between 1 and 65535")
    return port


def _seconds(value: Any) -> float:
    """A duration that may be zero (for "not at all")."""
    return 0.0 if value in (0, "0", "0.0") else _positive_number(value)


def _worker_class(value: Any) -> str:
    if value not in WORKER_CLASSES:
        raise ValueError(f"must be one of {', '.join(WORKER_CLASSES)} (the classes gunicorn brings itself)")
    return value


def _host_port(value: Any) -> str | None:
    text = _optional_text(value)
    if text is None:
        return None
    host, _, port = text.rpartition(":")
    if not host:
        raise ValueError("must be host:port")
    _port(port)
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _url(schemes: tuple[str, ...]) -> Callable[[Any], str | None]:
    def parse(value: Any) -> str | None:
        text = _optional_text(value)
        if text is None:
            return None
        parts = urlsplit(text)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return text.rstrip("/")

    return parse


BRIDGES = ("amqp", "couchdb")
# gthread: slow clients wait in the worker's poller or hold one thread of many, never the worker
# (docs/api.md); sync is one request per process, only behind a buffering proxy.
# gevent and tornado would need packages the constraints do not pin.
WORKER_CLASSES = ("gthread", "sync")


def _log_format(value: Any) -> str:
    if value not in ("text", "json"):
        raise ValueError("must be text or json")
    return value


def _bridges(value: Any) -> tuple[str, ...]:
    items = [item.strip() for item in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise ValueError("must be a list of bridge names")
    chosen = tuple(dict.fromkeys(item for item in items if item))
    unknown = [item for item in chosen if item not in BRIDGES]
    if unknown or not chosen:
        raise ValueError(f"must name one or more of {', '.join(BRIDGES)} (got {value!r})")
    return chosen


def _timezone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name
