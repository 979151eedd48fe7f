"""Messages that travel between the bridges and the actors.

Frozen dataclasses with names unique across the whole system, so that a `receiveMsg_<Type>`
handler can never pick up a namesake from another package. Failures travel as codes and text,
never as exception objects: those do not always pickle across Thespian's process boundary and
would drag tracebacks into messages that may be stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bookkeeper.config import Settings
from bookkeeper.domain.calls import FinishedCall

DocAction = Literal["created", "edited", "deleted"]
ChangeSource = Literal["amqp", "couchdb"]
CallLeg = Literal["a", "b"]

# A rejected payload is kept for inspection, not replayed verbatim: 64 KiB shows what was wrong
# without letting one oversized message bloat the store.
PAYLOAD_TEXT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class DocumentChanged:
    """A Kazoo or Kazbill document changed. The body is never carried: fetch it by id."""

    account_id: str
    database: str  # unencoded, as CouchDB stores it
    doc_type: str  # the document's pvt_type
    doc_id: str
    action: DocAction
    rev: str | None
    soft_deleted: bool
    source: ChangeSource
    received_gregorian: int


@dataclass(frozen=True)
class CallEnded:
    """One channel of a call hung up (Kazoo's CHANNEL_DESTROY). Zero billing seconds is still
    a call: the rater decides what, if anything, it costs."""

    account_id: str
    call_id: str
    leg: CallLeg | None
    billing_seconds: int
    duration_seconds: int | None
    direction: str | None
    caller: str | None
    callee: str | None
    reseller_id: str | None
    timestamp_gregorian: int | None  # when the switch reported it, if it said
    hangup_cause: str | None
    received_gregorian: int = 0  # when Kazbill received it; the fallback for the billing month
    resource_id: str | None = None  # the carrier resource the leg went through (stepswitch's)
    authorizing_type: str | None = None  # "resource" on a carrier's call into the switch
    request: str | None = None  # the request URI's user part: the number dialled, or called in on
    resource_type: str | None = None  # stepswitch's kind of leg (offnet-termination, onnet-termination, ...)
    jonny5_levels: tuple[str, ...] = ()  # "account"/"reseller": the levels Kazoo's jonny5 debits itself


@dataclass(frozen=True)
class BookkeeperSyncRequested:
    """Kazoo asked the bookkeeper named "kazbill" to bring an account's subscription up to date
    (kapi_bookkeepers update_req). The reply goes to `server_id` with the same `msg_id`."""

    account_id: str
    bookkeeper_id: str
    bookkeeper_type: str
    msg_id: str
    server_id: str
    dry_run: bool


@dataclass(frozen=True)
class RejectedMessage:
    """A payload that can never be processed, kept so that a person can look at it.

    `reason_code` is stable and machine-readable (e.g. "malformed_json", "missing_field");
    `field` names the offending field ("body" or "routing_key" when it is not one field);
    `reason` is for people."""

    source: str
    reason_code: str
    field: str
    reason: str
    routing_key: str
    payload_text: str

    @classmethod
    def of(
        cls, source: str, reason_code: str, field: str, reason: str, routing_key: str, payload: bytes | str
    ) -> RejectedMessage:
        raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
        # Cutting bytes may split a UTF-8 sequence; "replace" turns the stump into U+FFFD.
        text = raw[:PAYLOAD_TEXT_LIMIT].decode("utf-8", "replace")
        return cls(source, reason_code, field, reason, routing_key, text)


# --------------------------------------------------------------------------- inside the system
# Work travels as account ids: a change is only a reason to look at the account again, and the
# bookkeeper reads the documents themselves, so duplicates and reordering cost a re-read, never
# a second charge.

WorkKind = Literal["reconcile", "crawl", "rate"]


@dataclass(frozen=True)
class StartService:
    """The first message to the root supervisor. `settings` is bookkeeper.config.Settings;
    `clock_file` names a FileClock for the accelerated demo and tests (None: the system clock);
    `serve_pid` is watched so that the actors never outlive the process that started them."""

    settings: Settings
    shard_count: int
    restart_intensity: int
    restart_period_s: float
    serve_pid: int | None
    clock_file: str | None = None
    scheduler_interval_s: float | None = 30.0  # None: no scheduler (tests drive crawls by hand)
    mailer_interval_s: float | None = 30.0  # None: no mailer
    watchdog_interval_s: float = 1.0
    # A shard that answers nothing about its work for this long is killed and restarted
    # (hang_watch.py); None: never (in-process systems, whose shards have no process of their own).
    work_deadline_s: float | None = None


@dataclass(frozen=True)
class ServiceStarted:
    shard_count: int
    process_group: int | None = None  # the actors' own group, which the service ends when it stops


@dataclass(frozen=True)
class ServiceFailed:
    """Sent to the process that started the service when a restart budget is spent."""

    reason: str


@dataclass(frozen=True)
class HandOff:
    """A bridge's (or the scheduler's) batch for the shards. Answered by HandOffDone."""

    batch_id: str
    kind: WorkKind
    account_ids: tuple[str, ...]
    day: str | None = None  # ISO date, for crawls
    calls: tuple[FinishedCall, ...] = ()  # for "rate": each goes to the shard of the account that placed it


@dataclass(frozen=True)
class HandOffDone:
    """`done` accounts were applied durably; `failed` ones were recorded in kazbill_failures
    after two attempts (account id, reason); `not_done` were not attempted because the store was
    unreachable: the sender keeps them and comes back later."""

    batch_id: str
    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    not_done: tuple[str, ...]
    events: tuple[tuple[str, str], ...] = ()  # (event name, account id) the batch caused


@dataclass(frozen=True)
class ShardStart:
    index: int
    settings: Settings
    clock_file: str | None


@dataclass(frozen=True)
class ShardReady:
    index: int
    pid: int


@dataclass(frozen=True)
class ShardWork:
    batch_id: str
    kind: WorkKind
    account_ids: tuple[str, ...]
    day: str | None
    calls: tuple[FinishedCall, ...] = ()
    # A merged rating (actors/work_merging.py): how many of the calls each batch it holds brought,
    # in order; rated again batch by batch if rating them together fails. () for one batch.
    parts: tuple[int, ...] = ()


@dataclass(frozen=True)
class ShardWorkDone:
    batch_id: str
    shard: int
    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    not_done: tuple[str, ...]
    events: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SchedulerStart:
    settings: Settings
    clock_file: str | None
    interval_s: float


@dataclass(frozen=True)
class CrawlNow:
    """Asks the scheduler for one pass at once (tests, the demo, `kazbill crawl`); answered with
    CrawlReport when the pass is over."""


@dataclass(frozen=True)
class CrawlReport:
    days_crawled: tuple[tuple[str, str], ...]  # (reseller id, ISO day)
    accounts: int
    failed: int
    not_done: int


@dataclass(frozen=True)
class MailerStart:
    settings: Settings
    clock_file: str | None
    interval_s: float


@dataclass(frozen=True)
class MailNow:
    """Asks the mailer for one sending pass at once; answered with MailPassDone."""


@dataclass(frozen=True)
class MailPassDone:
    emailed: int
    retrying: int
    failed: int
    no_recipients: int
    skipped: int


@dataclass(frozen=True)
class NoticesQueued:
    """A batch queued notices: the mailer should look now rather than at its next tick."""


@dataclass(frozen=True)
class RenderDocuments:
    """A pass for one document worker over the documents due to be rendered or emailed
    (bookkeeper.services.documents.document_queue). Several passes at once spread over the troupe."""

    batch_id: str
    settings: Settings
    clock_file: str | None


@dataclass(frozen=True)
class DocumentsRendered:
    batch_id: str
    rendered: int
    emailed: int
    retrying: int
    failed: int


@dataclass(frozen=True)
class DocumentsNow:
    """Ask for one document pass now (tests, the CLI); answered by DocumentsRendered."""


@dataclass(frozen=True)
class StatusRequest:
    """Answered by ServiceStatus: what `kazbill status` and the tests look at."""


@dataclass(frozen=True)
class ServiceStatus:
    shards: tuple[object, ...]  # actor addresses, index = shard number
    shard_pids: tuple[int | None, ...]
    scheduler: object | None
    mailer: object | None
    document_workers: object | None
    restarts: int
    batches_in_flight: int
    giving_up: bool
    counts: tuple[tuple[str, int], ...] = ()  # "event:charged", "accounts:done", ... since the start
