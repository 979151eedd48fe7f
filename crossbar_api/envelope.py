"""Crossbar's envelope: requests carry `{"data": ...}`, answers carry the data with the request
id, the token, a timestamp and the version. JSON numbers are read as Decimal, never float.

The body is read once, here, and guarded so that no body can make the API fail. Its size, its
encoding (UTF-8, as RFC 8259 requires), its depth (counted before parsing, since Python's parser
recurses once per level) and its numbers and strings (each one Decimal arithmetic and the stores
hold exactly) are checked; what is refused is a 400 naming the field, or `data` when no field
can be named."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

import falcon

from crossbar_api.errors import API_VERSION, invalid, stamp

__all__ = ["API_VERSION", "answer", "dumps", "read_data", "read_request"]
MAX_BODY_BYTES = 256 * 1024
# Levels of objects and arrays, the envelope's own included. No Kazoo body needs a tenth of it;
# the stores refuse documents nested deeper than 64 (bookkeeper/adapters/document_rules.py), and
# what a request sends may be kept some levels down in a document (a ledger's metadata).
MAX_DEPTH = 32
# No amount, rate, quantity or time Kazoo sends needs more; within these bounds a number times
# 10,000 (units per currency unit) is exact at Decimal's default 28 digits.
MAX_NUMBER_DIGITS = 20
MAX_NUMBER_EXPONENT = 20
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
# Lone surrogates (from \ud800 escapes) cannot be written as UTF-8, and CouchDB refuses NUL.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _Unfit:
    """A number that cannot be held exactly, kept by the parser so that the field it sits in can
    be named once the whole body is read."""

    def __init__(self, reason: str):
        self.reason = reason


def read_data(req: falcon.Request) -> dict[str, Any]:
    """The request's `data` object; a clear 400 for anything else, before anything is changed."""
    return read_request(req)["data"]


def read_request(req: falcon.Request) -> dict[str, Any]:
    """The whole request object, whose `data` is an object: crossbar reads a few flags beside
    `data` (cb_ledgers' `impact_reseller`, applications/crossbar/src/modules/cb_ledgers.erl:385)."""
    too_big = invalid("data", "size", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
    if req.content_length and req.content_length > MAX_BODY_BYTES:
        raise too_big
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise too_big
    document = parse_body(raw)
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise invalid("data", "type", 'the body must be an object with a "data" object')
    return document


def parse_body(raw: bytes) -> Any:
    """JSON text of at most MAX_BODY_BYTES as Python values, numbers as exact Decimal or int."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid("data", "encoding", f"the body is not UTF-8 (byte {error.start})") from None
    if not text.strip():
        raise invalid("data", "required", 'the request needs a body {"data": {...}}')
    if _depth(text) > MAX_DEPTH:
        raise invalid("data", "depth", f"objects and arrays nest at most {MAX_DEPTH} levels")
    try:
        document = json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise invalid("data", "json", f"the body is not valid JSON: {_printable(error)}") from None
    _check_values(document)
    return document


def _depth(text: str) -> int:
    """How deep the text's objects and arrays nest, strings skipped. On text that is not JSON the
    count may be off, but only past a point where the parser refuses the text anyway."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _decimal(literal: str) -> Decimal | _Unfit:
    if len(literal) > 2 * MAX_NUMBER_DIGITS:
        return _Unfit(f"a number of at most {MAX_NUMBER_DIGITS} digits")
    try:
        number = Decimal(literal)
    except InvalidOperation:
        return _Unfit("not a number")
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # JSON numbers are finite: NaN and Infinity go to parse_constant
    if (
        len(digits) > MAX_NUMBER_DIGITS
        or not -MAX_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT
        or exponent < -MAX_NUMBER_EXPONENT
    ):
        return _Unfit(
            f"a number of at most {MAX_NUMBER_DIGITS} digits, between 1e-{MAX_NUMBER_EXPONENT} "
            f"and 1e{MAX_NUMBER_EXPONENT}"
        )
    return number


def _integer(literal: str) -> int | _Unfit:
    if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS:
        return _Unfit(f"a whole number of at most {MAX_NUMBER_DIGITS} digits")
    return int(literal)


def _check_values(document: Any) -> None:
    """Walks the parsed body (its depth already bounded) for numbers the parser set aside and
    strings no store can keep; one found is refused by its path below `data`."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, _Unfit):
            raise invalid(path or "data", "number", f"must be {value.reason}")
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise invalid(path or "data", "encoding", "text must not hold NUL or unpaired surrogates")
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise invalid(path or "data", "encoding", "a key must not hold NUL or unpaired surrogates")
                pending.append((_below(path, key), item))
        elif isinstance(value, list):
            pending.extend((f"{path or 'data'}[{index}]", item) for index, item in enumerate(value))


def _below(path: str, key: str) -> str:
    if path == "":  # `data`'s members are named alone, as the handlers name them
        return "" if key == "data" else key
    return f"{path}.{key}"


def _printable(error: Exception) -> str:
    return _UNSTORABLE.sub("?", str(error))[:200]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# The standard encoder takes no Decimal, so each is handed to it as the digits between two
# marker strings (a NUL and a random token of this process: a text cannot forge one without
# knowing the token), and the markers and the quotes around them are then taken out. One C-encoded pass
# over the answer and two C replaces, instead of a Python call per value (a regex substitution
# with a template per match cost a page of 50 entries more than encoding it).
_DECIMAL_TOKEN = secrets.token_hex(8)
_DECIMAL_OPEN, _DECIMAL_CLOSE = f'"\\u0000{_DECIMAL_TOKEN}<', f'\\u0000{_DECIMAL_TOKEN}>"'


def _marked_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("money is always a finite number")
        return f"\x00{_DECIMAL_TOKEN}<{value:f}\x00{_DECIMAL_TOKEN}>"
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    """JSON text in which a Decimal is written with its exact digits (12.5 stays 12.5: the
    standard encoder would only take floats, and a float would round)."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_marked_decimal)
    except TypeError:  # a key the standard encoder takes no key of (a date, a Decimal): named by str()
        return _dumps_slowly(value)
    return text.replace(_DECIMAL_OPEN, "").replace(_DECIMAL_CLOSE, "") if _DECIMAL_TOKEN in text else text


def _dumps_slowly(value: Any) -> str:
    if isinstance(value, Decimal):
        return _marked_decimal(value).split("<")[1].split("\x00")[0]
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(str(key), ensure_ascii=False)}:{_dumps_slowly(item)}" for key, item in value.items()
            )
            + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dumps_slowly(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def answer(
    req: falcon.Request,
    resp: falcon.Response,
    data: Any,
    *,
    status: int = 200,
    revision: str | None = None,
    **extra: Any,
) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = falcon.MEDIA_JSON
    text = dumps({"data": data, "status": "success", "revision": revision or "undefined", **stamp(req), **extra})
    # A lone surrogate a document somehow holds must not stop the answer at the last step.
    resp.data = text.encode("utf-8", "replace")
