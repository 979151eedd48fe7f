"""Starting, reaching and stopping the actor system.

`multiprocTCPBase` is the production base: each actor its own process, the admin on a TCP port
of its own (Thespian listens on every interface: keep the port firewalled). The
in-process `simpleSystemBase` runs the same actors for the wiring tests and for one-shot commands.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from thespian.actors import ActorSystem

from actors.hand_off import HandOffTimeout, HandOffUnavailable
from actors.messages import (
    CrawlNow,
    CrawlReport,
    DocumentsNow,
    DocumentsRendered,
    HandOff,
    HandOffDone,
    MailNow,
    MailPassDone,
    ServiceStarted,
    StartService,
    WorkKind,
)
from actors.process_group import end_process_group
from actors.supervisor import GLOBAL_NAME
from bookkeeper.config_values import HAND_OFF_TIMEOUT_S
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.logs import formatter_config

log = logging.getLogger("kazbill.system")
DEFAULT_ADMIN_PORT = 19_000
# After Thespian's own shutdown (up to ten seconds), how long an actor still busy with a handler
# may take to finish it before it is killed (actors/process_group.py).
ACTORS_GRACE_S = 10.0
ACTOR_LOGGING: dict[str, Any] = {
    "version": 1,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "level": "INFO"}},
    "loggers": {
        "kazbill": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "weasyprint.progress": {"level": "WARNING"},
    },  # four lines per rendered document
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}


def require_done(answer: HandOffDone, what: str = "the batch") -> HandOffDone:
    """The answer, if the shards applied (or recorded) every account; HandOffUnavailable if they
    handed some back, so that the caller keeps its ack or checkpoint where it was."""
    if answer.not_done:
        raise HandOffUnavailable(f"{len(answer.not_done)} accounts of {what} handed back")
    return answer


def capabilities(base: str, admin_port: int | None) -> dict:
    if base != "multiprocTCPBase":
        return {}
    # Thespian binds its sockets on every interface; firewall the port on a shared host.
    return {"Admin Port": admin_port or DEFAULT_ADMIN_PORT}


def admin_listening(admin_port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", admin_port)) == 0


@dataclass
class ServiceHandle:
    system: ActorSystem
    supervisor: object
    shard_count: int

    def client(self, timeout_s: float = HAND_OFF_TIMEOUT_S) -> HandOffClient:
        return HandOffClient(self.system, self.supervisor, timeout_s)


@contextmanager
def running_service(
    config: StartService,
    *,
    base: str = "multiprocTCPBase",
    admin_port: int | None = None,
    start_timeout_s: float = 60.0,
    log_level: str = "INFO",
) -> Iterator[ServiceHandle]:
    """Starts the actor system and the supervisor; always shuts the system down on the way out,
    whatever happens (Thespian's processes outlive a creator that skips shutdown())."""
    os.environ.setdefault("THESPLOG_THRESHOLD", "WARNING")
    log_format = getattr(config.settings, "log_format", "text")
    logging_config = {
        **ACTOR_LOGGING,
        "formatters": {"plain": formatter_config(log_format)},
        "handlers": {"stderr": {**ACTOR_LOGGING["handlers"]["stderr"], "level": log_level}},
        "loggers": {**ACTOR_LOGGING["loggers"], "kazbill": {**ACTOR_LOGGING["loggers"]["kazbill"], "level": log_level}},
    }
    system = ActorSystem(base, capabilities(base, admin_port), logDefs=logging_config)
    actor_group = None
    try:
        supervisor = system.createActor("actors.supervisor.Supervisor", globalName=GLOBAL_NAME)
        started = system.ask(supervisor, config, start_timeout_s)
        if not isinstance(started, ServiceStarted):
            raise RuntimeError(f"the supervisor did not start (answered {started!r})")
        actor_group = started.process_group
        yield ServiceHandle(system, supervisor, started.shard_count)
    finally:
        system.shutdown()
        if actor_group is not None:
            end_process_group(actor_group, ACTORS_GRACE_S)


def connect(admin_port: int, timeout_s: float = HAND_OFF_TIMEOUT_S) -> HandOffClient:
    """A bridge's handle on a running service. Refuses to start a system of its own: a bridge
    without a service behind it must fail, not bill alone. The handle is not Thespian's per-process
    singleton (transientUnique), so a client that outlives a killed service can connect to the
    restarted one instead of talking to the dead admin forever."""
    if not admin_listening(admin_port):
        raise ConnectionError(f"no Kazbill actor system on 127.0.0.1:{admin_port}")
    system = ActorSystem(
        "multiprocTCPBase", capabilities("multiprocTCPBase", admin_port), logDefs=ACTOR_LOGGING, transientUnique=True
    )
    supervisor = system.createActor("actors.supervisor.Supervisor", globalName=GLOBAL_NAME)
    return HandOffClient(system, supervisor, timeout_s, admin_port)


class HandOffClient:
    """Sends batches to the supervisor and waits for their answers, one batch at a time. Answers
    are matched by batch id: a late answer to a batch that already timed out is discarded."""

    def __init__(self, system: ActorSystem, supervisor: object, timeout_s: float, admin_port: int | None = None):
        self.system, self.supervisor, self.timeout_s = system, supervisor, timeout_s
        self.admin_port = admin_port

    def hand_off(self, kind: WorkKind, account_ids: Sequence[str], day: str | None = None) -> HandOffDone:
        return self._batch(HandOff(f"{kind}-{uuid.uuid4().hex}", kind, tuple(account_ids), day))

    def hand_off_calls(self, calls: Sequence[FinishedCall]) -> HandOffDone:
        """Finished calls to be rated; answered once every call was charged, found free or
        already charged, or recorded as failed."""
        return self._batch(
            HandOff(f"rate-{uuid.uuid4().hex}", "rate", tuple(c.account_id for c in calls), calls=tuple(calls))
        )

    def _batch(self, batch: HandOff) -> HandOffDone:
        batch_id = batch.batch_id
        self.system.tell(self.supervisor, batch)
        return self._await(
            lambda answer: isinstance(answer, HandOffDone) and answer.batch_id == batch_id,
            self.timeout_s,
            f"no answer to batch {batch_id} within {self.timeout_s:g}s",
        )

    def _await(self, wanted: Callable[[object], bool], timeout_s: float, late: str):
        """The first answer `wanted` accepts; HandOffTimeout with `late` if none comes in time,
        HandOffUnavailable as soon as the service is gone (a killed service answers nothing, and a
        bridge told to stop by its parent's death must not wait out the whole timeout first)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            answer = self.system.listen(min(left, 1.0))
            if answer is not None and wanted(answer):
                return answer
            if answer is not None:
                log.debug("discarding a late or unrelated answer: %r", answer)
            elif self.admin_port and not admin_listening(self.admin_port):
                raise HandOffUnavailable(f"the actor system on port {self.admin_port} is gone")
        raise HandOffTimeout(late)

    def crawl_now(self, timeout_s: float = 600.0) -> CrawlReport:
        """One scheduler pass, now; returns its report. (Never call shutdown() on a connected
        client's system: that would stop the service it is connected to.)"""
        return self._ask(CrawlNow(), CrawlReport, timeout_s, "the crawl")

    def mail_now(self, timeout_s: float = 300.0) -> MailPassDone:
        """One mailer pass over the notices due, now; returns what it did."""
        return self._ask(MailNow(), MailPassDone, timeout_s, "the mailer")

    def documents_now(self, timeout_s: float = 300.0) -> DocumentsRendered:
        """One document worker's pass over the documents due, now; returns what it did."""
        return self._ask(DocumentsNow(), DocumentsRendered, timeout_s, "the document workers")

    def _ask(self, request: object, answer_type: type, timeout_s: float, who: str):
        self.system.tell(self.supervisor, request)
        return self._await(
            lambda answer: isinstance(answer, answer_type), timeout_s, f"{who} did not report within {timeout_s:g}s"
        )
