"""View key collation as sortable bytes, so SQLite can order and range-scan view rows.

Order of types as CouchDB and PouchDB define it: null < false < true < numbers < strings <
arrays < objects. Strings compare by code point (PouchDB's rule; CouchDB uses ICU, which
differs only for mixed-case or accented keys, and Kazbill's views emit neither in positions
where order matters). The encoding is prefix-free (every value is self-delimiting), so a key's
encoding followed by a document id still sorts exactly like the pair (key, id).
"""

from __future__ import annotations

import struct
from typing import Any

_END = b"\x00"
_MEMBER = b"\x01"
_NULL, _FALSE, _TRUE, _NUMBER, _STRING, _ARRAY, _OBJECT = (bytes([tag]) for tag in range(1, 8))
# Greater than the first byte of any encoded value: "everything with this prefix" upper bound.
HIGH = b"\xff"


def _number(value: int | float) -> bytes:
    # IEEE-754 big-endian with the sign bit flipped (and all bits flipped for negatives)
    # sorts as the numbers do. Integers are compared as JavaScript would see them.
    (bits,) = struct.unpack(">Q", struct.pack(">d", float(value)))
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | (1 << 63)
    return struct.pack(">Q", bits)


def _string(value: str) -> bytes:
    # UTF-8 preserves code point order; NUL is escaped so the terminator stays unique.
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\x01") + b"\x00\x00"


def encode(value: Any) -> bytes:
    if value is None:
        return _NULL
    if value is False:
        return _FALSE
    if value is True:
        return _TRUE
    if isinstance(value, (int, float)):
        return _NUMBER + _number(value)
    if isinstance(value, str):
        return _STRING + _string(value)
    if isinstance(value, (list, tuple)):
        return _ARRAY + b"".join(encode(item) for item in value) + _END
    if isinstance(value, dict):
        # Each member opens with a byte above the terminator, so {} never prefixes {"": x}.
        return _OBJECT + b"".join(_MEMBER + _string(k) + encode(v) for k, v in value.items()) + _END
    raise TypeError(f"{type(value).__name__} cannot be a view key")


def encode_row(key: Any, doc_id: str) -> bytes:
    """The sort position of a view row: by key, then by document id."""
    return encode(key) + encode(doc_id)


def compare(left: Any, right: Any) -> int:
    a, b = encode(left), encode(right)
    return (a > b) - (a < b)
