"""Which version of a rate deck calls are rated from, and how a new version takes over.

A deck is replaced whole or not at all: the new rates are written aside, into a database of
their own (one per version), and only then does one write of the deck's pointer make them the
deck. Whatever stops an import before that write (a killed worker, a bad batch, a server gone)
leaves the pointer, and so the deck calls are rated from, exactly as it was.

The pointer lists every version written aside and not yet removed (`versions`: the active one,
the one being written, and those of imports that never finished), so that they can be removed
on any store (pouchdb-server lists database names without their '/').

The pointer also names the import under way (`importing`). Only that import may switch the
pointer, so when two imports of one deck overlap the later upload wins and the earlier one,
finishing second, is refused instead of bringing back an older file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POINTER_ID = "kazbill_deck_pointer"
VERSION_MARK = "/version-"


class DeckSuperseded(RuntimeError):
    """Another import of the same deck started after this one: its file is the newer one."""


def version_db(deck_db: str, version: str) -> str:
    """Where a version's rates are written: beside the deck's own database, under its name (a
    deck name has no '/', so no deck's versions can be taken for another deck's)."""
    # A regular expression, not str.islower(): a version of digits only (a uuid4's first twenty
    # hex digits are, about once in 8,000 imports) has no cased letter and is not "lower".
    if not re.fullmatch(r"[a-z0-9]+", version):
        raise ValueError(f"a deck version is lowercase letters and digits, not {version!r}")
    return f"{deck_db}{VERSION_MARK}{version}"


@dataclass(frozen=True)
class DeckPointer:
    active_version: str | None = None  # None: never switched (a deck of the older layout, or none)
    active_db: str | None = None
    rates: int = 0
    importing: str | None = None  # the version being written now, if any
    versions: tuple[str, ...] = ()  # every version whose database may exist
    doc: Mapping[str, Any] | None = None  # as read, with its _rev, for the revision-checked switch

    @classmethod
    def parse(cls, doc: Mapping[str, Any] | None) -> DeckPointer:
        if doc is None:
            return cls()
        active = doc.get("active") or {}
        importing = doc.get("importing") or {}
        return cls(
            active.get("version"),
            active.get("db"),
            int(active.get("rates") or 0),
            importing.get("version"),
            tuple(doc.get("versions") or ()),
            doc,
        )

    def claimed_by(self, version: str, job_id: str | None, now: int | None) -> dict[str, Any]:
        """The pointer document naming `version` as the import under way."""
        return {
            **self._base(),
            "importing": {"version": version, "job_id": job_id, "started_at": now},
            "versions": [*self.versions, version],
        }

    def switched_to(self, version: str, db: str, rates: int, now: int | None) -> dict[str, Any]:
        """The pointer document making `version` the deck; DeckSuperseded when a later import
        has claimed the deck since `version` started."""
        if self.importing != version:
            raise DeckSuperseded(
                f"a later import of this deck ({self.importing or 'finished'}) replaced version {version}"
            )
        previous = (
            {"version": self.active_version, "db": self.active_db, "rates": self.rates} if self.active_version else None
        )
        return {
            **self._base(),
            "importing": None,
            "previous": previous,
            "active": {"version": version, "db": db, "rates": rates, "switched_at": now},
        }

    def replaced(self) -> tuple[str, ...]:
        """The versions no one reads or writes any more: to be removed."""
        return tuple(version for version in self.versions if version not in (self.active_version, self.importing))

    def without(self, removed: tuple[str, ...]) -> dict[str, Any]:
        return {**self._base(), "versions": [version for version in self.versions if version not in removed]}

    def _base(self) -> dict[str, Any]:
        return {**(self.doc or {"_id": POINTER_ID}), "pvt_type": "rate_deck_pointer"}
