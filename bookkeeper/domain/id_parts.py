"""Keys someone else chose (an idempotency key, a gateway's transaction id) inside document ids,
kept exactly as given: distinct keys always give distinct ids.

ASCII letters, digits, `_` and `-` stay as they are, so such keys keep the ids the old slug
gave them; every other character becomes `.` and its UTF-8 bytes in upper-case hex ("PO/17" →
"PO.2F17"), which reads back exactly (`key_of_id_part`). A part that would be longer than
`MAX_ID_PART` is `~` and the key's SHA-256 instead: store ids have a length limit (1,024 here),
and the document records its key anyway. `.` and `~` are never kept as they are, so the three
forms never meet, and the ids stay valid in CouchDB, in URLs and after Kazoo's "YYYYMM-" prefix.
"""

from __future__ import annotations

import hashlib

from bookkeeper.domain.charges import slug

ID_ESCAPE, HASHED = ".", "~"
MAX_ID_PART = 300  # a 200-character key of four-byte characters would be 2,400 escaped
_KEPT_AS_IS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_HEX = frozenset("0123456789ABCDEF")


def id_part(text: str) -> str:
    """`text` as part of a document id (a lone surrogate, which JSON lets through, is escaped as
    UTF-8 would encode it if it could)."""
    return _bounded(text, "".join(char if char in _KEPT_AS_IS else _escaped(char) for char in text))


def fully_escaped_id_part(text: str) -> str:
    """`id_part` with `_` escaped too ("PO_17" → "PO.5F17"): the id of a key whose `id_part` is
    held by a document of another key, written when ids were slugs ("PO 17" had "PO_17"). No
    `id_part` and no slug contains ".5F", so this id is no other key's."""
    return _bounded(text, "".join(char if char in _KEPT_AS_IS and char != "_" else _escaped(char) for char in text))


def legacy_id_part(text: str) -> str | None:
    """The id part Kazbill gave `text` before `id_part` (its slug), when that differs from
    `id_part`'s: documents written then are still found under it. None when they agree."""
    legacy = slug(text)
    return None if legacy == id_part(text) else legacy


def key_of_id_part(part: str) -> str:
    """The key an escaped id part encodes (ValueError if `part` is no escaped id part; a hashed
    one names its key only in its document)."""
    pieces, data, index = [], bytearray(), 0
    while index < len(part):
        char = part[index]
        if char == ID_ESCAPE:
            hex_pair = part[index + 1 : index + 3]
            if len(hex_pair) != 2 or not set(hex_pair) <= _HEX:
                raise ValueError(f"{part!r}: {ID_ESCAPE} must be followed by two upper-case hex digits")
            data.append(int(hex_pair, 16))
            index += 3
            continue
        if char not in _KEPT_AS_IS:
            raise ValueError(f"{part!r}: {char!r} is escaped in an id part")
        pieces.append(data.decode("utf-8", "surrogatepass") + char)  # a UnicodeDecodeError is a ValueError
        data.clear()
        index += 1
    return "".join(pieces) + data.decode("utf-8", "surrogatepass")


def _escaped(char: str) -> str:
    return "".join(f"{ID_ESCAPE}{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def _bounded(text: str, part: str) -> str:
    if len(part) <= MAX_ID_PART:
        return part
    return HASHED + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
