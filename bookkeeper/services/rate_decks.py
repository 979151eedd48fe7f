"""A reseller's rate decks: imported from CSV (all or nothing, in batches, with progress), read
back as a RateDeck for rating, and asked which rate a number takes and what a call costs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from bookkeeper.domain.rate_csv import CsvReport, rate_rows
from bookkeeper.domain.rating import RateDeck, parse_rate
from bookkeeper.domain.kazoo_names import ratedeck_db
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.gateway_settings import NotAReseller, is_reseller

BATCH = 2_000
Progress = Callable[[int], None]  # told how many more rows were written


@dataclass
class DeckImport:
    report: CsvReport
    written: int = 0
    removed: int = 0  # rates of the old deck that the new file no longer has


def import_rate_deck(store: DocumentStore, reseller_id: str, deck: str, lines: Iterable[str], *,
                     progress: Progress | None = None) -> DeckImport:
    """Replace the deck with the file's rates. Nothing is written unless every row is good.
    Raises NotAReseller for an account that bills no one, ValueError for a bad deck name."""
    db = ratedeck_db(reseller_id, deck)
    if not is_reseller(store, reseller_id):
        raise NotAReseller(f"account {reseller_id} is not a reseller; rate decks belong to resellers")
    result = DeckImport(CsvReport())
    docs = [{**doc, "account_id": reseller_id} for doc in rate_rows(lines, deck, result.report)]
    if not result.report.ok:
        return result
    store.ensure_database(db)
    revisions = _revisions(store, db)
    for start in range(0, len(docs), BATCH):
        batch = [{**doc, "_rev": revisions[doc["_id"]]} if doc["_id"] in revisions else doc
                 for doc in docs[start:start + BATCH]]
        failed = [outcome for outcome in store.bulk_put(db, batch) if not outcome.ok]
        if failed:  # a concurrent import of the same deck: the operator re-runs one of them
            raise RuntimeError(f"{db}: {len(failed)} rates were changed meanwhile (first: {failed[0].id})")
        result.written += len(batch)
        if progress:
            progress(len(batch))
    kept = {doc["_id"] for doc in docs}
    stale = [{"_id": doc_id, "_rev": rev, "_deleted": True} for doc_id, rev in revisions.items() if doc_id not in kept]
    for start in range(0, len(stale), BATCH):
        store.bulk_put(db, stale[start:start + BATCH])
    result.removed = len(stale)
    return result


def _revisions(store: DocumentStore, db: str) -> dict[str, str]:
    rows = store.all_docs(db, ViewQuery(start_key="rate-", end_key="rate-\ufff0")).rows
    return {row.id: row.value["rev"] for row in rows}


def load_rate_deck(store: DocumentStore, reseller_id: str, deck: str) -> RateDeck:
    """The deck, parsed; an empty deck when it was never imported."""
    try:
        rows = store.all_docs(ratedeck_db(reseller_id, deck), ViewQuery(
            start_key="rate-", end_key="rate-\ufff0", include_docs=True)).rows
    except DatabaseNotFound:
        return RateDeck([])
    return RateDeck([parse_rate(row.doc) for row in rows if row.doc])
