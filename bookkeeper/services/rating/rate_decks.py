"""A reseller's rate decks: imported from CSV (all or nothing, in batches, with progress), read
back as a RateDeck for rating, and asked which rate a number takes and what a call costs.

An import writes a new version of the deck aside, then switches the deck's pointer to it in one
write, then removes the versions it replaced (bookkeeper.domain.rate_deck_versions). Readers
follow the pointer, so a call is rated from one whole deck, old or new, never from a mix; an
import killed half way leaves a version no pointer names, removed by the next import's switch.
A deck written before versions existed (its rates in the deck's own database) is read as it
is until its first versioned import."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bookkeeper.domain.kazoo_names import ratedeck_db
from bookkeeper.domain.rate_csv import CsvReport, rate_rows
from bookkeeper.domain.rate_deck_versions import POINTER_ID, DeckPointer, version_db
from bookkeeper.domain.rating import RateDeck, parse_rate
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.payments.gateway_settings import NotAReseller, is_reseller

BATCH = 2_000
RATES = ViewQuery(start_key="rate-", end_key="rate-\ufff0")
Progress = Callable[[int], None]  # told how many more rows were written; may raise to stop the import


@dataclass
class DeckImport:
    report: CsvReport
    written: int = 0
    removed: int = 0  # rates of the old deck that the new file no longer has
    version: str | None = None


def import_rate_deck(
    store: DocumentStore,
    reseller_id: str,
    deck: str,
    lines: Iterable[str],
    *,
    progress: Progress | None = None,
    job_id: str | None = None,
    now: int | None = None,
) -> DeckImport:
    """Replace the deck with the file's rates. Nothing is written unless every row is good, and
    nothing is rated from the new rates until all of them are written.
    Raises NotAReseller for an account that bills no one, ValueError for a bad deck name,
    DeckSuperseded when a later import of the deck started meanwhile."""
    deck_db = ratedeck_db(reseller_id, deck)
    if not is_reseller(store, reseller_id):
        raise NotAReseller(f"account {reseller_id} is not a reseller; rate decks belong to resellers")
    result = DeckImport(CsvReport())
    docs = [{**doc, "account_id": reseller_id} for doc in rate_rows(lines, deck, result.report)]
    if not result.report.ok:
        return result
    store.ensure_database(deck_db)
    version = result.version = uuid.uuid4().hex[:20]
    target = version_db(deck_db, version)
    _update_pointer(store, deck_db, lambda pointer: pointer.claimed_by(version, job_id, now))
    store.create_database(target)
    for start in range(0, len(docs), BATCH):
        batch = docs[start : start + BATCH]
        failed = [outcome for outcome in store.bulk_put(target, batch) if not outcome.ok]
        if failed:
            raise RuntimeError(f"{target}: {len(failed)} rates could not be written (first: {failed[0].id})")
        result.written += len(batch)
        if progress:
            progress(len(batch))
    switched = _update_pointer(store, deck_db, lambda pointer: pointer.switched_to(version, target, len(docs), now))
    result.removed = _remove_replaced(store, deck_db, switched, {doc["_id"] for doc in docs})
    return result


def _update_pointer(store: DocumentStore, deck_db: str, change: Callable[[DeckPointer], dict]) -> DeckPointer:
    """Apply `change` to the pointer as it is now, with a revision-checked write (re-read and
    re-decided when another import moved it meanwhile). Answers the pointer as it was before."""
    while True:
        pointer = read_pointer(store, deck_db)
        try:
            store.put(deck_db, change(pointer))
            return pointer
        except Conflict:
            continue


def read_pointer(store: DocumentStore, deck_db: str) -> DeckPointer:
    """DatabaseNotFound when the deck was never imported."""
    try:
        return DeckPointer.parse(store.get(deck_db, POINTER_ID))
    except NotFound:
        return DeckPointer.parse(None)


def _remove_replaced(store: DocumentStore, deck_db: str, before: DeckPointer, kept: set[str]) -> int:
    """Remove what the switch replaced: the previous version, versions of imports that never
    finished, and the older layout's rates. Answers how many old rates the new deck dropped."""
    old_db = before.active_db or deck_db
    try:
        removed = sum(1 for row in store.all_docs(old_db, RATES).rows if row.id not in kept)
    except DatabaseNotFound:
        removed = 0
    replaced = read_pointer(store, deck_db).replaced()  # read again: a later import may be writing already
    for version in replaced:
        with contextlib.suppress(DatabaseNotFound):
            store.delete_database(version_db(deck_db, version))
    _update_pointer(store, deck_db, lambda pointer: pointer.without(replaced))
    legacy = [
        {"_id": row.id, "_rev": row.value["rev"], "_deleted": True} for row in store.all_docs(deck_db, RATES).rows
    ]
    for start in range(0, len(legacy), BATCH):
        store.bulk_put(deck_db, legacy[start : start + BATCH])
    return removed


@dataclass(frozen=True)
class ActiveDeck:
    key: str  # changes whenever the deck calls are rated from changes
    db: str


def active_deck(store: DocumentStore, reseller_id: str, deck: str) -> ActiveDeck | None:
    """Where the deck's rates are now; None when the deck was never imported."""
    deck_db = ratedeck_db(reseller_id, deck)
    try:
        pointer = read_pointer(store, deck_db)
        if pointer.active_db:
            return ActiveDeck(f"version:{pointer.active_version}", pointer.active_db)
        return ActiveDeck(f"legacy:{store.database_info(deck_db).update_seq}", deck_db)
    except DatabaseNotFound:
        return None


def load_active(store: DocumentStore, reseller_id: str, deck: str) -> tuple[str | None, RateDeck]:
    """The deck's key and its rates, read from one version. A version removed while it was being
    read (a switch in between) is read again from the one the pointer names now."""
    for _ in range(5):
        active = active_deck(store, reseller_id, deck)
        if active is None:
            return None, RateDeck([])
        try:
            rows = store.all_docs(
                active.db, ViewQuery(start_key="rate-", end_key="rate-\ufff0", include_docs=True)
            ).rows
        except DatabaseNotFound:
            continue
        return active.key, RateDeck([parse_rate(row.doc) for row in rows if row.doc])
    raise RuntimeError(f"rate deck {deck} of {reseller_id} kept changing while it was read")


def load_rate_deck(store: DocumentStore, reseller_id: str, deck: str) -> RateDeck:
    """The deck, parsed; an empty deck when it was never imported."""
    return load_active(store, reseller_id, deck)[1]
