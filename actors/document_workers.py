"""The document-worker troupe: renders period documents and emails them, off the event path,
several workers at once (a Thespian troupe spreads the passes over up to `max_count` processes).
A pass also runs a rate-deck import the API accepted as a job, if one is due
(bookkeeper.services.rating.rate_deck_jobs), so that no import runs inside a request.

A worker keeps nothing but its renderer (WeasyPrint's parsed stylesheet and fonts, worth
keeping between documents) and its mailer: what is due, and how often it was tried, is in the
store, and each job is claimed with a revision-checked write, so passes in parallel never do
the same document twice and a dead worker's claims come due again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from thespian.actors import ActorTypeDispatcher
from thespian.troupe import troupe

from actors.messages import DocumentsRendered, RenderDocuments
from bookkeeper.domain.kazoo_names import gregorian_of

if TYPE_CHECKING:
    from bookkeeper.ports import Clock, DocumentRenderer, DocumentStore, Mailer

log = logging.getLogger("kazbill.documents")


@troupe(max_count=4, idle_count=1)
class DocumentWorker(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        # store, clock, renderer, mailer (None: no SMTP host), sender address, mails per minute
        self.tools: tuple[DocumentStore, Clock, DocumentRenderer, Mailer | None, str, int] | None = None

    def receiveMsg_RenderDocuments(self, work: RenderDocuments, sender) -> None:
        from bookkeeper.bootstrap import build_clock, build_document_renderer, build_mailer, build_store
        from bookkeeper.services.documents.document_queue import process_due_documents
        from bookkeeper.services.rating.rate_deck_jobs import run_due_import

        if self.tools is None:
            settings = work.settings
            self.tools = (
                build_store(settings),
                build_clock(work.clock_file),
                build_document_renderer(settings),
                build_mailer(settings) if settings.smtp_host else None,
                settings.smtp_sender,
                settings.document_mails_per_minute,
            )
        store, clock, renderer, mailer, sender_address, per_minute = self.tools
        try:
            imported = run_due_import(store, lambda: gregorian_of(clock.now()))
            if imported:
                log.info("rate deck import %s ran", imported)
        except Exception as error:  # noqa: BLE001 - the job keeps its claim; its beat lapses and it runs again
            log.warning("rate deck import failed: %s", error)
        try:
            done = process_due_documents(
                store,
                renderer,
                mailer,
                sender=sender_address,
                mails_per_minute=per_minute,
                now_gregorian=gregorian_of(clock.now()),
            )
        except Exception as error:  # noqa: BLE001 - the store is away: the next pass tries again
            log.warning("document pass failed: %s", error)
            self.send(sender, DocumentsRendered(work.batch_id, 0, 0, 0, 0))
            return
        if done.rendered or done.emailed or done.failed or done.retrying:
            log.info(
                "document pass: %d rendered, %d emailed, %d retrying, %d failed",
                done.rendered,
                done.emailed,
                done.retrying,
                done.failed,
            )
        self.send(sender, DocumentsRendered(work.batch_id, done.rendered, done.emailed, done.retrying, done.failed))
