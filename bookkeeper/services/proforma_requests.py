"""A customer's request for a pro-forma invoice (to pay by bank transfer): recorded in the
account's database with its amount, for the documents release to render and email. Until then
the request waits, visible to the reseller, and nothing about money changes."""
from __future__ import annotations

import uuid

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore


def request_proforma(store: DocumentStore, account_id: str, *, amount: int, currency: str, by: str,
                     now_gregorian: int) -> str:
    doc_id = f"kazbill_proforma_request-{uuid.uuid4().hex}"
    store.put(account_db(account_id), {"_id": doc_id, "pvt_type": "kazbill_proforma_request", "amount": amount,
                                       "currency": currency, "requested_by": by, "state": "requested",
                                       "pvt_created": now_gregorian})
    return doc_id
