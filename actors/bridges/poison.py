"""Messages that can never be processed, kept in kazbill_failures for a person to read."""

from __future__ import annotations

from actors.messages import RejectedMessage
from bookkeeper.ports import DocumentStore
from bookkeeper.services.setup.failures import record_failure


def store_rejected(store: DocumentStore, rejected: RejectedMessage, now_gregorian: int) -> str:
    """Kept once per distinct message (the record's id comes from the payload): a redelivered
    poison message is not recorded twice."""
    return record_failure(
        store,
        source=rejected.source,
        reason_code=rejected.reason_code,
        reason=rejected.reason,
        payload={"routing_key": rejected.routing_key, "body": rejected.payload_text},
        account_id=None,
        now_gregorian=now_gregorian,
        field=rejected.field,
    )
