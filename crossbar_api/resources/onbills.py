"""An account's period documents (the reference app's `onbills`):

    GET .../onbills[?period=YYYY-MM-DD]    the documents of the last 12 months (or of one period),
                                           with number, state and total
    GET .../onbills/{doc_id}               one document's data (what its PDF shows)
    GET .../onbills/{doc_id}/pdf           the PDF (application/pdf); 409 until it is rendered
    PUT .../onbills/generate               {"period_start": "YYYY-MM-DD"}: issue (or reissue, same
                                           numbers) the documents of a closed period; with
                                           "children": true, for every account below a reseller;
                                           "document_types": ["calls_report"] for the calls report;
                                           a document issued again is emailed again only with
                                           "email": true ("email": false: none is emailed)
Reading is for the account and the accounts above it; generating is for a reseller above it.
What an account can have issued on demand (pro-formas, invoices for a payment: each numbered,
rendered and emailed at its reseller's cost) is limited per account, in any hour and any 24
hours (ApiDeps.usage_limits, from the settings); past a limit, 429 names it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import falcon

from bookkeeper.domain.money import MoneyError, currency, exact_units
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.ports import gregorian_now
from bookkeeper.services.audit.audit_scope import accounts_in_scope
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import BillingInputError
from bookkeeper.services.billing.usage_limits import LimitReached
from bookkeeper.services.documents.document_listing import (
    RENDERED,
    NoSuchDocument,
    NotADocumentId,
    NotRendered,
    document_pdf,
    find_document,
    list_documents,
    months_back,
)
from bookkeeper.services.documents.period_documents import (
    PERIOD_TYPES,
    DocumentPorts,
    DocumentRequestError,
    NoCarrier,
    documents_issued,
    issue_period_documents,
)
from bookkeeper.services.documents.proforma_requests import issue_proforma, request_proforma
from bookkeeper.services.documents.transaction_invoices import issue_transaction_invoice
from crossbar_api.access import account_for, billing_context
from crossbar_api.csv_export import stream_csv, wants_csv
from crossbar_api.csv_rows import DOCUMENT_HEADER, document_rows
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import day

LISTED_MONTHS = 12
ON_DEMAND_TYPES = ("invoice", "act", "calls_report")
HIDDEN = ("_attachments", "_rev", "pvt_account_db", "pvt_account_id")


def _fields(req: falcon.Request, allowed: set[str], what: str) -> dict[str, Any]:
    """The request's data, refused (400, the field named) when it carries a field it should not."""
    data = read_data(req)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise invalid(unknown[0], "unknown", f"not a field of {what}")
    return data


def _period(value: Any, field: str = "period_start") -> date:
    return day(value, field)  # the period's first day


def _document(deps: ApiDeps, account_id: str, doc_id: str) -> tuple[str, dict[str, Any]]:
    try:
        return find_document(deps.store, account_id, doc_id)
    except NoSuchDocument as error:
        raise _not_found(error) from None


def _not_found(error: NoSuchDocument) -> ApiError:
    rule = "format" if isinstance(error, NotADocumentId) else "exists"
    return ApiError(404, "bad identifier", {"doc_id": {rule: {"message": error.reason}}})


def _too_many(reached: LimitReached) -> ApiError:
    """429 naming the limit an on-demand document met, and when one is free again."""
    over = reached.over
    message = (
        f"at most {over.most} {over.kind} in any {over.window} for one account; the next in {over.retry_after_s} s"
    )
    return ApiError(
        429,
        "too many requests",
        {over.name: {"limit": {"message": message, "limit": over.most, "retry_after": over.retry_after_s}}},
        headers={"Retry-After": str(over.retry_after_s)},
    )


class Onbills:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        period = req.get_param("period")
        today = local_day_of_gregorian(gregorian_now(self.deps.clock), context.reseller.timezone)
        months = months_back((today.year, today.month), LISTED_MONTHS)
        found = list_documents(
            self.deps.store, self.deps.design_docs, account_id, months, _period(period, "period") if period else None
        )
        listed = [{**doc, "total": _major(doc)} for doc in found]
        if wants_csv(req):
            stream_csv(resp, f"documents-{account_id}.csv", DOCUMENT_HEADER, document_rows(listed))
            return
        answer(req, resp, listed)


def _major(listed: dict[str, Any]) -> Decimal | None:
    """A document's total is kept in the currency's minor units (kopecks, cents), as its PDF is
    computed; the API answers amounts in currency units everywhere."""
    total, code = listed.get("total"), listed.get("currency")
    if not isinstance(total, int) or not isinstance(code, str):
        return None
    return Decimal(total).scaleb(-currency(code).minor_units)


class OnbillDocument:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        account_for(req, self.deps, account_id)
        _, doc = _document(self.deps, account_id, doc_id)
        answer(
            req,
            resp,
            {
                "id": doc["_id"],
                **{k: v for k, v in doc.items() if k not in HIDDEN and k != "_id"},
                "pdf": doc.get("state") in RENDERED,
            },
        )


class OnbillPdf:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, doc_id: str) -> None:
        account_for(req, self.deps, account_id)
        try:
            name, pdf = document_pdf(self.deps.store, account_id, doc_id)
        except NoSuchDocument as error:
            raise _not_found(error) from None
        except NotRendered as error:
            raise ApiError(409, "not rendered yet", {"doc_id": {"state": {"message": error.reason}}}) from None
        resp.content_type = "application/pdf"
        resp.downloadable_as = name
        resp.data = pdf


def _no_carrier(error: NoCarrier) -> ApiError:
    """409: the request is fine, the reseller's settings are not there yet; nothing was numbered."""
    return ApiError(409, "no carrier", {error.field: {"missing": {"message": error.reason}}})


class GenerateOnbills:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = _fields(req, {"period_start", "children", "document_types", "email"}, "a generation request")
        start = _period(data.get("period_start"))
        kinds = data.get("document_types", list(PERIOD_TYPES))
        if not isinstance(kinds, list) or not kinds or any(k not in ON_DEMAND_TYPES for k in kinds):
            raise invalid("document_types", "enum", f"a list of {', '.join(ON_DEMAND_TYPES)}")
        children = data.get("children", False)
        if not isinstance(children, bool):
            raise invalid("children", "type", "true or false")
        email = data.get("email")
        if email is not None and not isinstance(email, bool):
            raise invalid(
                "email", "type", "true, false, or absent (each document issued for the first time is emailed)"
            )
        account_for(req, self.deps, account_id, write=True, from_above=not children)
        ports = DocumentPorts(self.deps.store, self.deps.clock, self.deps.design_docs)
        targets = [account_id]
        if children:
            billing = BillingPorts(self.deps.store, self.deps.clock, self.deps.design_docs)
            targets = [a for a in accounts_in_scope(billing, reseller_id=account_id) if a != account_id]
        issued, refused = [], {}
        for target in targets:
            try:
                documents = issue_period_documents(ports, target, start, tuple(kinds), email=email)
                documents_issued(ports, target, start, documents)  # invoice.issued, for whoever subscribed
                issued += [
                    {
                        "account_id": target,
                        "id": doc.doc_id,
                        "document_type": doc.document_type,
                        "carrier": doc.carrier,
                        "number": doc.number,
                        "state": "queued",
                        "email": doc.email,
                    }
                    for doc in documents
                ]
            except (DocumentRequestError, BillingInputError) as error:
                if not children and isinstance(error, NoCarrier):
                    raise _no_carrier(error) from None
                if not children:
                    raise invalid(
                        error.field, "period" if isinstance(error, DocumentRequestError) else "billing", error.reason
                    ) from None
                refused[target] = {"field": error.field, "reason": error.reason}
        answer(req, resp, {"issued": issued, "refused": refused}, status=201 if issued else 200)


class Proforma:
    """PUT .../onbill_proforma {"amount": 1500.00}: a pro-forma invoice for a bank transfer,
    issued by the reseller's main carrier, rendered and emailed to the account's admins."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = _fields(req, {"amount"}, "a pro-forma request")
        account_for(req, self.deps, account_id, write=True)
        try:
            amount = exact_units(data.get("amount"), "amount")
        except MoneyError as error:
            raise invalid("amount", "format", error.reason) from None
        context = billing_context(self.deps, account_id)
        caller = req.context.caller
        ports = DocumentPorts(self.deps.store, self.deps.clock, self.deps.design_docs)
        try:
            request_id = request_proforma(
                ports,
                account_id,
                amount=amount,
                currency=context.reseller.currency,
                by=f"{caller.account_id}/{caller.user_id or 'api_key'}",
                limit=self.deps.usage_limits.proformas,
                now_gregorian=gregorian_now(self.deps.clock),
            )
        except LimitReached as reached:
            raise _too_many(reached) from None
        except NoCarrier as error:
            raise _no_carrier(error) from None
        issued = issue_proforma(ports, account_id, request_id)
        answer(
            req,
            resp,
            {
                "request_id": request_id,
                "id": issued.doc_id,
                "number": issued.number,
                "carrier": issued.carrier,
                "state": "queued",
            },
            status=201,
        )


class TransactionInvoice:
    """PUT .../onbills/transaction {"entry_id": "202611-..."}: an invoice for one payment."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = _fields(req, {"entry_id"}, "a transaction invoice request")
        if not isinstance(data.get("entry_id"), str):
            raise invalid("entry_id", "required", "the payment's ledger entry id")
        account_for(req, self.deps, account_id, write=True)
        try:
            issued = issue_transaction_invoice(
                DocumentPorts(self.deps.store, self.deps.clock, self.deps.design_docs),
                account_id,
                data["entry_id"],
                limit=self.deps.usage_limits.documents,
            )
        except NoCarrier as error:
            raise _no_carrier(error) from None
        except DocumentRequestError as error:
            raise invalid(error.field, "payment", error.reason) from None
        except LimitReached as reached:
            raise _too_many(reached) from None
        answer(
            req,
            resp,
            {"id": issued.doc_id, "number": issued.number, "carrier": issued.carrier, "state": "queued"},
            status=201,
        )
