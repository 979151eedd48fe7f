"""Correcting an issued document, for a reseller above the account:

    PUT .../onbills/{doc_id}/credit_note   {"reason": "...", "lines": [{"line": 2, "amount": 100.00}]}
                                           with an Idempotency-Key: a credit note for those lines of
                                           the invoice (all that is left without `lines`), its total
                                           credited to the balance
    PUT .../onbills/{doc_id}/void          {"reason": "..."}: a credit note for the whole invoice (no
                                           money moves), and that carrier's documents of the period
                                           issued again under new numbers; a pro-forma is only
                                           marked voided

201 with the credit note (and what replaced the voided documents); a repeat (the same key, or a
second void) answers the first, 200. A document that cannot be corrected (an act, a credit note,
one voided or credited in full) is 409 naming `doc_id`; a bad line or amount is 400 naming it
(`lines[0].amount`), and nothing is numbered, written or credited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import falcon

from bookkeeper.domain.documents.credit_notes import CreditRefused, NotCreditable, reason_of
from bookkeeper.domain.money import currency
from bookkeeper.services.billing.context import BillingInputError
from bookkeeper.services.documents.corrections import Correction, credit_document, void_document
from bookkeeper.services.documents.document_issue import DocumentRequestError, IssuedDocument, NoCarrier
from bookkeeper.services.documents.document_listing import NoSuchDocument, NotADocumentId
from bookkeeper.services.documents.period_documents import DocumentPorts
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid


class CreditNote:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        data = _fields(req, {"reason", "lines"})
        key = req.get_header("Idempotency-Key")
        if key is None:
            raise invalid(
                "Idempotency-Key", "required", "a credit note moves money: send a key that makes repeats safe"
            )
        if not (0 < len(key) <= 200 and key.isprintable()):
            raise invalid("Idempotency-Key", "format", "must be 1 to 200 printable characters")
        account_for(req, self.deps, account_id, write=True, from_above=True)
        lines = data.get("lines")
        with _answered_as_api_errors():
            correction = credit_document(
                _ports(self.deps),
                account_id,
                doc_id,
                lines=lines,
                reason=reason_of(data.get("reason")),
                key=key,
                by=_by(req),
            )
        _answer(req, resp, correction)


class VoidDocument:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        data = _fields(req, {"reason"})
        account_for(req, self.deps, account_id, write=True, from_above=True)
        with _answered_as_api_errors():
            correction = void_document(
                _ports(self.deps), account_id, doc_id, reason=reason_of(data.get("reason")), by=_by(req)
            )
        _answer(req, resp, correction)


@contextmanager
def _answered_as_api_errors() -> Iterator[None]:
    """The services' refusals as the API answers them; nothing was written when one is raised."""
    try:
        yield
    except NoSuchDocument as error:
        rule = "format" if isinstance(error, NotADocumentId) else "exists"
        raise ApiError(404, "bad identifier", {"doc_id": {rule: {"message": error.reason}}}) from None
    except NotCreditable as error:
        raise ApiError(409, "cannot be corrected", {error.field: {"state": {"message": error.reason}}}) from None
    except NoCarrier as error:
        raise ApiError(409, "no carrier", {error.field: {"missing": {"message": error.reason}}}) from None
    except BillingInputError as error:  # the account's or its reseller's settings cannot be read
        raise invalid(error.field, "billing", error.reason) from None
    except (CreditRefused, DocumentRequestError) as error:
        if error.field == "Idempotency-Key":
            raise ApiError(
                409,
                "this Idempotency-Key was used for another request",
                {error.field: {"unique": {"message": error.reason}}},
            ) from None
        raise invalid(error.field, "invalid", error.reason) from None


def _fields(req: falcon.Request, allowed: set[str]) -> dict[str, Any]:
    data = read_data(req)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise invalid(unknown[0], "unknown", "not a field of a correction")
    return data


def _ports(deps: ApiDeps) -> DocumentPorts:
    return DocumentPorts(deps.store, deps.clock, deps.design_docs)


def _by(req: falcon.Request) -> str:
    caller = req.context.caller
    return f"{caller.account_id}/{caller.user_id or 'api_key'}"


def _issued(doc: IssuedDocument) -> dict[str, Any]:
    return {"id": doc.doc_id, "document_type": doc.document_type, "carrier": doc.carrier, "number": doc.number}


def _answer(req: falcon.Request, resp: falcon.Response, correction: Correction) -> None:
    note = correction.credit_note
    body: dict[str, Any] = {"original": correction.original, "voided": note is None or not correction.refunded}
    if note is not None:
        body["credit_note"] = {
            **_issued(note),
            "total": Decimal(correction.total_minor).scaleb(-currency(correction.currency).minor_units),
            "refunded": correction.refunded,
        }
    if correction.reissued:
        body["reissued"] = [_issued(doc) for doc in correction.reissued]
    answer(req, resp, body, status=200 if correction.replay else 201)
