"""Writing the account directory (bookkeeper/domain/directory.py): the summaries a batch's passes
leave are written together at the batch's end, one read and one write for the whole batch
instead of two requests per account; a pass alone (the API's, a command's) writes its own.

A summary lost to a race (two writers of one account's summary at once: a shard's batch and an
API payment's pass) is read again and written once more; if it loses again, the next pass of
the account writes it. It is a cache of what the passes decided, so nothing is billed from it
and nothing is lost with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from bookkeeper.domain.directory import with_changes
from bookkeeper.domain.month_figures import FIGURES_DUE
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.month_figures import figures_wanted, refresh_month_figures

log = logging.getLogger("kazbill.directory")
DIRECTORY_DB = "kazbill_directory"
_ATTEMPTS = 2


class DirectoryWrites:
    """What a batch's passes noted, by account; the passes of a batch may run at once."""

    def __init__(self) -> None:
        self._noted: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def note(self, changes: Mapping[str, Any]) -> None:
        with self._lock:
            account_id = changes["_id"]
            self._noted[account_id] = {**self._noted.get(account_id, {}), **changes}

    def flush(self, store: DocumentStore) -> None:
        with self._lock:
            noted, self._noted = list(self._noted.values()), {}
        write_summaries(store, noted)


def note_summary(directory: DirectoryWrites | None, store: DocumentStore, changes: Mapping[str, Any]) -> None:
    """Into the batch's writes when there is a batch, else now."""
    if directory is not None:
        directory.note(changes)
    else:
        write_summaries(store, [changes])


def write_summaries(store: DocumentStore, changes: Iterable[Mapping[str, Any]]) -> None:
    """Each account's changes applied to its stored summary; only what changed is written; then
    the month figures of the passes' summaries (services/billing/month_figures.py). Never raises
    for a store that refuses (the billing that made the summary stands): it is logged."""
    pending = {change["_id"]: dict(change) for change in changes}
    wanted = figures_wanted(pending.values())
    try:
        stored = store.get_many(DIRECTORY_DB, [*pending, *wanted])
        _write(store, {key: _stored_part(change) for key, change in pending.items()}, stored)
    except Exception:  # noqa: BLE001 - a summary is a cache: billing must not fail for it (an outage included)
        log.exception("directory: %d summaries not written", len(pending))
        return
    try:
        refresh_month_figures(store, DIRECTORY_DB, wanted, stored)
    except Exception:  # noqa: BLE001 - the same cache: left to the accounts' next passes
        log.exception("directory: month figures of %d accounts not refreshed", len(wanted))


def _stored_part(change: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in change.items() if key != FIGURES_DUE}


def _write(store: DocumentStore, pending: dict[str, dict[str, Any]], stored: Mapping[str, Mapping[str, Any]]) -> None:
    for attempt in range(_ATTEMPTS):
        if not pending:
            return
        if attempt:
            stored = store.get_many(DIRECTORY_DB, list(pending))
        docs = [
            doc
            for account_id, change in pending.items()
            if (doc := with_changes(stored.get(account_id), change)) is not None
        ]
        if not docs:
            return
        lost = {result.id for result in store.bulk_put(DIRECTORY_DB, docs) if not result.ok}
        pending = {account_id: change for account_id, change in pending.items() if account_id in lost}
    if pending:
        log.info("directory: %d summaries left to the accounts' next passes", len(pending))
