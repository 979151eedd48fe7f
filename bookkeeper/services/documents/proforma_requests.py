"""A pro-forma invoice (to pay by bank transfer): the customer's request for an amount is recorded
in the account's database, then issued at once by the reseller's main carrier (a number from its
`proforma` sequence, the data in the account's monthly database) and queued for the document
workers to render and email. Nothing about money changes: the transfer, when it arrives, is a
wire-transfer credit like any other, and the pro-forma's number is what the payer quotes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bookkeeper.domain.documents.invoice_lines import InvoiceLine, minor_of
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.usage_limits import UsageLimit, UsageLimits
from bookkeeper.services.billing.usage_limits import take_allowance
from bookkeeper.services.documents.document_issue import DocumentPorts, IssuedDocument, Issuer

VALID_DAYS = 10  # how long a pro-forma's terms hold: shown as its "valid until"


def request_proforma(
    ports: DocumentPorts,
    account_id: str,
    *,
    amount: int,
    currency: str,
    by: str,
    now_gregorian: int,
    limit: UsageLimit = UsageLimits().proformas,
) -> str:
    """Record the request; LimitReached (nothing recorded, so nothing numbered or sent) when the
    account has had `limit` pro-formas lately, NoCarrier (likewise) while its reseller has no
    carrier to issue it. Every entrance (the API, the payments page) comes through here, so none
    of them can issue pro-formas without limit."""
    store = ports.store
    Issuer.of(ports, account_id).main_carrier()
    take_allowance(store, account_id, limit, now_gregorian)
    doc_id = f"kazbill_proforma_request-{uuid.uuid4().hex}"
    store.put(
        account_db(account_id),
        {
            "_id": doc_id,
            "pvt_type": "kazbill_proforma_request",
            "amount": amount,
            "currency": currency,
            "requested_by": by,
            "state": "requested",
            "pvt_created": now_gregorian,
        },
    )
    return doc_id


def issue_proforma(ports: DocumentPorts, account_id: str, request_id: str) -> IssuedDocument:
    """The pro-forma for a recorded request; issuing it again gives the same number and document."""
    store, issuer = ports.store, Issuer.of(ports, account_id)
    request = store.get(account_db(account_id), request_id)
    issued_on = local_day_of_gregorian(request["pvt_created"], issuer.context.reseller.timezone)
    main = issuer.main_carrier()
    line = InvoiceLine(
        "one_time",
        main.id,
        "advance payment",
        1,
        None,
        minor_of(int(request["amount"]), issuer.context.reseller.currency),
    )
    issued = issuer.issue(
        main,
        "proforma",
        subject=request_id,
        issued_on=issued_on,
        period=(issued_on, issued_on + timedelta(days=VALID_DAYS)),
        lines=[line],
        id_suffix=request_id.rsplit("-", 1)[-1][:16],
        extra={"request_id": request_id},
        money_paid=True,
    )
    store.put(
        account_db(account_id),
        {
            **store.get(account_db(account_id), request_id),
            "state": "issued",
            "document": {"db": issued.db, "id": issued.doc_id, "number": issued.number},
        },
    )
    return issued
