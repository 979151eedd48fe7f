"""The document-worker troupe: renders period documents off the event path, several workers
at once (a Thespian troupe spreads the messages over up to `max_count` processes).

Rendering itself arrives with the documents issue; until then the troupe is started and
supervised like every other child, and answers each account honestly as not rendered, so that
nothing waiting on it hangs.
"""
from __future__ import annotations

import logging

from thespian.actors import ActorTypeDispatcher
from thespian.troupe import troupe

from actors.messages import DocumentsRendered, RenderDocuments

log = logging.getLogger("kazbill.documents")
NOT_YET = "document rendering is not available in this version"


@troupe(max_count=4, idle_count=1)
class DocumentWorker(ActorTypeDispatcher):
    def receiveMsg_RenderDocuments(self, work: RenderDocuments, sender) -> None:
        log.warning("asked to render %d accounts' documents: %s", len(work.account_ids), NOT_YET)
        self.send(sender, DocumentsRendered(work.batch_id, (), tuple((a, NOT_YET) for a in work.account_ids)))
