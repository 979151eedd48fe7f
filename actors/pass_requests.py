"""The supervisor's one-pass requests: a crawl, a mail pass or a documents pass asked for now
(`kazbill` commands, the demo, the tests), and the document passes the supervisor starts itself.

A request goes to the child that does the pass; its report goes back to the oldest asker. With
no such child, the asker gets an empty report at once. Document passes go to the troupe several
at once, so that its workers render in parallel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from actors.messages import (
    CrawlNow,
    CrawlReport,
    DocumentsNow,
    DocumentsRendered,
    MailNow,
    MailPassDone,
    RenderDocuments,
    StartService,
)

PARALLEL_DOCUMENT_PASSES = 2  # a pass per core of a small node; the troupe grows to 4 workers
DOCUMENT_PASS_LIMIT = 50  # as many jobs as process_due_documents takes in one pass
DOCUMENTS = "documents"  # the timer of the document passes


class PassRequests:
    """Mixed into the supervisor (after the actor class, whose `send` it uses), with its
    children and configuration."""

    config: StartService | None
    scheduler: object
    mailer: object
    document_workers: object
    crawl_askers: list
    mail_askers: list
    document_askers: list
    send: Callable[[object, object], None]
    wakeupAfter: Callable[..., None]

    def receiveMsg_CrawlNow(self, request: CrawlNow, sender) -> None:
        self._forward(request, sender, self.scheduler, self.crawl_askers, CrawlReport((), 0, 0, 0))

    def receiveMsg_CrawlReport(self, report: CrawlReport, sender) -> None:
        self._answer_oldest(self.crawl_askers, report)

    def receiveMsg_MailNow(self, request: MailNow, sender) -> None:
        self._forward(request, sender, self.mailer, self.mail_askers, MailPassDone(0, 0, 0, 0, 0))

    def receiveMsg_MailPassDone(self, report: MailPassDone, sender) -> None:
        self._answer_oldest(self.mail_askers, report)

    def receiveMsg_DocumentsNow(self, request: DocumentsNow, sender) -> None:
        self.document_askers.append(sender)
        self._document_passes(1, asked=True)

    def receiveMsg_DocumentsRendered(self, report: DocumentsRendered, sender) -> None:
        if report.batch_id.startswith("asked-"):
            self._answer_oldest(self.document_askers, report)
        elif report.rendered + report.emailed >= DOCUMENT_PASS_LIMIT:
            self._document_passes()  # a full pass: there is more

    def _document_passes(self, count: int = PARALLEL_DOCUMENT_PASSES, asked: bool = False) -> None:
        """Passes for the troupe; several at once so that its workers render in parallel. An
        asked pass's report goes back to whoever asked (DocumentsNow)."""
        if self.config is None or self.document_workers is None:
            return
        for _ in range(count):
            batch = f"{'asked' if asked else 'tick'}-{uuid.uuid4().hex}"
            self.send(self.document_workers, RenderDocuments(batch, self.config.settings, self.config.clock_file))

    def _documents_tick(self) -> None:
        """Documents are looked at as often as mail."""
        if self.config is not None and self.config.mailer_interval_s is not None:
            self._document_passes()
            self.wakeupAfter(self.config.mailer_interval_s, payload=DOCUMENTS)

    def _forward(self, request: object, sender, child, askers: list, nothing_done: object) -> None:
        if child is None:
            self.send(sender, nothing_done)
            return
        askers.append(sender)
        self.send(child, request)

    def _answer_oldest(self, askers: list, report: object) -> None:
        if askers:
            self.send(askers.pop(0), report)
