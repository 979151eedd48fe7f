"""Documents named after a key someone else chose (an idempotency key, a gateway's id), found
whichever scheme named them.

Before ids were reversible (`id_part`), a key's id was its slug, so "PO 17" and "PO/17" shared
"PO_17", and the documents written then keep those ids. Every such document records its key,
which decides: a document is this key's only if it names this very key. A key whose own id is
held by another key's slug-era document ("PO_17" by the one of "PO 17") takes its fully escaped
id instead, which nothing else can hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.id_parts import fully_escaped_id_part, id_part, legacy_id_part
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import get_or_none


@dataclass(frozen=True)
class KeyedDoc:
    doc_id: str  # where this key's document is, or is to be written
    doc: dict[str, Any] | None  # the document, if there is one

    def part(self, prefix: str) -> str:
        """What follows the prefix: the key's part of the id, for ids derived from this one."""
        return self.doc_id[len(prefix) :]


def find_keyed(store: DocumentStore, db: str, prefix: str, key: str, key_field: str) -> KeyedDoc:
    own = get_or_none(store, db, prefix + id_part(key))
    if own is not None and own.get(key_field) == key:
        return KeyedDoc(own["_id"], own)
    if own is not None:  # another key's document from the slug era holds this id
        escaped = prefix + fully_escaped_id_part(key)
        return KeyedDoc(escaped, get_or_none(store, db, escaped))
    legacy = legacy_id_part(key)
    if legacy is not None:
        earlier = get_or_none(store, db, prefix + legacy)
        if earlier is not None and earlier.get(key_field) == key:
            return KeyedDoc(earlier["_id"], earlier)
    return KeyedDoc(prefix + id_part(key), None)
