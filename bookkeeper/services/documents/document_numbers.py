"""Reserving document numbers: gapless and without duplicates, even when generations race.

Each sequence has one counter document in `kazbill_numbers` holding the last number given and
the batch it gave last (`pending`: subject → number). Each number given is also an assignment
document of its own, `num-<sequence>-<subject>`, which is what a regeneration finds again. To
reserve, a worker reads the counter, finishes its pending batch (writes any assignment it lacks:
the worker that reserved it may have died after the counter moved), then looks which of its
subjects have numbers and moves the counter by the number of those that have none, with a
revision-checked write. Two workers racing: one write wins; the other re-reads, finishes the
winner's batch, and finds its subjects there if they were the same.
So every number up to `last` has exactly one assignment, and a subject never has two.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bookkeeper.domain.documents.numbering import NumberingError
from bookkeeper.ports import Conflict, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.cluster.store_conflicts import is_only_live_revision

NUMBERS_DB = "kazbill_numbers"
MAX_ATTEMPTS = 100  # contention on one sequence: each lost race means another worker progressed
PATIENCE = 20  # looks (about half a second) at a counter with two live revisions before resolving


@dataclass(frozen=True)
class NumberSequence:
    key: str
    start: int  # the first number of a new sequence


def assignment_id(sequence: str, subject: str) -> str:
    return f"num-{sequence}-{subject}"


def reserve(
    store: DocumentStore, sequence: NumberSequence, subjects: Sequence[str], *, now_gregorian: int
) -> dict[str, int]:
    """Numbers for `subjects` (each keeps the number it had, if it had one), in the order given."""
    store.ensure_database(NUMBERS_DB)
    wanted = list(dict.fromkeys(subjects))
    for _ in range(MAX_ATTEMPTS):
        # The counter first, then the assignments: every batch before the counter's pending one
        # was finished before the counter moved past it, and the pending one is finished here,
        # so a subject numbered by any of them is seen. Looking the other way round, a subject
        # numbered by a batch that came and went between the two reads was numbered again, and
        # the second number, never written, was a gap.
        counter = _counter(store, sequence)
        _finish(store, sequence.key, counter, now_gregorian)
        found = _assigned(store, sequence.key, wanted)
        missing = [subject for subject in wanted if subject not in found]
        if not missing:
            return found
        last = counter["last"]
        batch = {subject: last + offset for offset, subject in enumerate(missing, start=1)}
        try:
            store.put(
                NUMBERS_DB, {**counter, "last": last + len(missing), "pending": batch, "pvt_modified": now_gregorian}
            )
        except Conflict:
            continue  # another worker moved the counter: look again
        _finish(store, sequence.key, {"pending": batch}, now_gregorian)
        return {subject: found[subject] if subject in found else batch[subject] for subject in wanted}
    raise NumberingError("sequence", f"{sequence.key}: too much contention to reserve numbers")


def numbers_of(store: DocumentStore, sequence: str, subjects: Sequence[str]) -> dict[str, int]:
    """The numbers already given to `subjects` (a subject without one is left out)."""
    if not store.database_exists(NUMBERS_DB):
        return {}
    return _assigned(store, sequence, list(subjects))


def _assigned(store: DocumentStore, sequence: str, subjects: list[str]) -> dict[str, int]:
    docs = store.get_many(NUMBERS_DB, [assignment_id(sequence, subject) for subject in subjects])
    return {doc["subject"]: doc["number"] for doc in docs.values() if doc and "number" in doc}


def _counter(store: DocumentStore, sequence: NumberSequence) -> dict:
    """The counter, once it is seen to be its document's only live revision: two live revisions
    (a race a cluster answered 202, being settled) would be two counters, each taking a write.
    After a while of seeing two, the writer that should have withdrawn one is taken to be gone,
    and the rule decides (store_conflicts.py)."""
    counter_id = f"seq-{sequence.key}"
    for attempt in range(MAX_ATTEMPTS):
        try:
            counter = store.get(NUMBERS_DB, counter_id)
        except NotFound:
            _create_counter(store, sequence, counter_id)
            continue
        if is_only_live_revision(store, NUMBERS_DB, counter_id, counter["_rev"], resolve=attempt >= PATIENCE):
            return counter
        time.sleep(random.uniform(0.005, 0.05))
    raise NumberingError("sequence", f"{sequence.key}: its counter keeps more than one revision")


def _create_counter(store: DocumentStore, sequence: NumberSequence, counter_id: str) -> None:
    """A new sequence starts at its start. A counter that was there and is deleted (every
    revision withdrawn at once by a writer and a resolver) goes on after the greatest number
    given, so that no number is given twice."""
    last = sequence.start - 1
    if store.leaves(NUMBERS_DB, counter_id):
        prefix = assignment_id(sequence.key, "")
        given = store.all_docs(
            NUMBERS_DB, ViewQuery(start_key=prefix, end_key=prefix + "\ufff0", include_docs=True)
        ).rows
        last = max([last, *(row.doc["number"] for row in given if row.doc and "number" in row.doc)])
    with contextlib.suppress(Conflict):  # another worker created it first
        store.put(
            NUMBERS_DB,
            {"_id": counter_id, "pvt_type": "document_sequence", "sequence": sequence.key, "last": last, "pending": {}},
        )


def _finish(store: DocumentStore, sequence: str, counter: dict, now_gregorian: int) -> None:
    """Write the assignments of the counter's last batch; one that exists is the same already."""
    pending = counter.get("pending") or {}
    if pending:
        store.bulk_put(
            NUMBERS_DB,
            [
                {
                    "_id": assignment_id(sequence, subject),
                    "pvt_type": "document_number",
                    "sequence": sequence,
                    "subject": subject,
                    "number": number,
                    "pvt_created": now_gregorian,
                }
                for subject, number in pending.items()
            ],
        )
