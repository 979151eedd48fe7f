"""Large rate-deck imports as jobs: the API stores the file and answers at once; a document
worker of the service runs the import, reporting its progress on the job.

Why the service and not a thread of the API: a gunicorn worker is killed when a request outlasts
its timeout, and recycled or restarted at will; a thread in it dies with it, taking the import
along. The service's workers are supervised long-lived processes, and the job is in the store,
so an import outlives any one of them: the worker claims the job with a revision-checked write
and beats on it after every batch; a job whose beat stops (its worker died) is claimed again
and imported from the start into a fresh version, while the deck's pointer keeps naming the old
deck, whole, until some import has written every rate (bookkeeper.services.rating.rate_decks).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from bookkeeper.domain.kazoo_names import ratedeck_db
from bookkeeper.domain.rate_deck_versions import DeckSuperseded
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.payments.gateway_settings import NotAReseller, is_reseller
from bookkeeper.services.rating.rate_decks import import_rate_deck

JOBS_DB = "kazbill_rate_deck_imports"
FILE = "deck.csv"
STALE_AFTER_S = 300  # no beat for this long: the worker died (a batch takes well under a second)
MAX_ATTEMPTS = 3  # a file that kills every worker that takes it is failed, not tried forever
SHOWN = (
    "state",
    "deck",
    "rows",
    "written",
    "removed",
    "version",
    "attempts",
    "reason",
    "errors",
    "created_at",
    "started_at",
    "finished_at",
)


class JobTakenOver(RuntimeError):
    """This worker's claim lapsed and another worker runs the job now."""


def accept_import(store: DocumentStore, reseller_id: str, deck: str, raw: bytes, *, by: str, now: int) -> str:
    """Store the file as a queued job; answers the job's id. ValueError for a bad deck name,
    NotAReseller for an account that bills no one."""
    ratedeck_db(reseller_id, deck)
    if not is_reseller(store, reseller_id):
        raise NotAReseller(f"account {reseller_id} is not a reseller; rate decks belong to resellers")
    store.ensure_database(JOBS_DB)
    job_id = f"deck_import-{uuid.uuid4().hex}"
    rows = max(raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1) - 1, 0)
    # receiving until the file is attached: a job cut off in between is never run
    written = store.put(
        JOBS_DB,
        {
            "_id": job_id,
            "pvt_type": "rate_deck_import",
            "state": "receiving",
            "reseller_id": reseller_id,
            "deck": deck,
            "rows": rows,
            "written": 0,
            "attempts": 0,
            "requested_by": by,
            "created_at": now,
        },
    )
    attached = store.put_attachment(JOBS_DB, job_id, FILE, raw, "text/csv", written.rev)
    store.put(JOBS_DB, {**store.get(JOBS_DB, job_id), "_rev": attached.rev, "state": "queued"})
    return job_id


def import_job(store: DocumentStore, reseller_id: str, job_id: str) -> dict[str, Any] | None:
    """The job as the API shows it, or None (no such job of this reseller)."""
    try:
        job = store.get(JOBS_DB, job_id)
    except (NotFound, DatabaseNotFound):
        return None
    if job.get("pvt_type") != "rate_deck_import" or job.get("reseller_id") != reseller_id:
        return None
    return {"id": job_id, **{key: job[key] for key in SHOWN if key in job}}


def run_due_import(store: DocumentStore, now: Callable[[], int]) -> str | None:
    """Claim one due import and run it to its end; answers its id, or None when none is due."""
    try:
        rows = store.all_docs(JOBS_DB, _jobs()).rows
    except DatabaseNotFound:
        return None
    for row in rows:
        job = dict(row.doc or {})
        if not _due(job, now()):
            continue
        try:
            job = _save(
                store,
                {
                    **job,
                    "state": "running",
                    "attempts": job.get("attempts", 0) + 1,
                    "started_at": now(),
                    "beat_at": now(),
                    "written": 0,
                },
            )
        except Conflict:
            continue  # another worker claimed it first
        _run(store, job, now)
        return job["_id"]
    return None


def _jobs() -> ViewQuery:
    return ViewQuery(start_key="deck_import-", end_key="deck_import-\ufff0", include_docs=True)


def _due(job: dict[str, Any], now: int) -> bool:
    if job.get("state") == "queued":
        return True
    return job.get("state") == "running" and job.get("beat_at", 0) < now - STALE_AFTER_S


def _run(store: DocumentStore, job: dict[str, Any], now: Callable[[], int]) -> None:
    if job["attempts"] > MAX_ATTEMPTS:
        _save(
            store,
            {
                **job,
                "state": "failed",
                "finished_at": now(),
                "reason": f"the import stopped {MAX_ATTEMPTS} times without finishing; the old deck stands",
            },
        )
        return
    state = {"job": job}

    def beat(rows: int) -> None:
        try:
            state["job"] = _save(store, {**state["job"], "written": state["job"]["written"] + rows, "beat_at": now()})
        except Conflict:
            raise JobTakenOver(job["_id"]) from None

    try:
        text = store.get_attachment(JOBS_DB, job["_id"], FILE).data.decode("utf-8-sig")
        result = import_rate_deck(
            store, job["reseller_id"], job["deck"], text.splitlines(), progress=beat, job_id=job["_id"], now=now()
        )
    except JobTakenOver:
        return  # the worker that holds the job now reports on it
    except UnicodeDecodeError:
        _finish(store, state["job"], now, "failed", reason="the CSV must be UTF-8")
        return
    except (NotAReseller, ValueError, DeckSuperseded, RuntimeError) as error:
        _finish(store, state["job"], now, "failed", reason=f"{error}; the old deck stands")
        return
    if not result.report.ok:
        _finish(
            store,
            state["job"],
            now,
            "failed",
            reason="bad lines; the old deck stands",
            errors=[
                {"line": line, "column": column, "reason": reason} for line, column, reason in result.report.errors
            ],
        )
        return
    _finish(store, state["job"], now, "done", written=result.written, removed=result.removed, version=result.version)


def _finish(store: DocumentStore, job: dict[str, Any], now: Callable[[], int], outcome: str, **fields: Any) -> None:
    """The outcome, without the file: up to 64 MB a job, of no use once imported or refused."""
    kept = {key: value for key, value in job.items() if key != "_attachments"}
    with contextlib.suppress(Conflict):  # another worker took the job over meanwhile: its outcome is the one kept
        _save(store, {**kept, **fields, "state": outcome, "finished_at": now()})


def _save(store: DocumentStore, job: dict[str, Any]) -> dict[str, Any]:
    return {**job, "_rev": store.put(JOBS_DB, job).rev}
