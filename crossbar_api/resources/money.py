"""The money endpoints Kazoo 4.3 UIs call: the balance, the transactions of a period, and a
reseller's manual credit or balance-correction debit (the ledgers as cb_ledgers lists them are in
ledgers.py). Amounts travel in currency units as JSON numbers and are exact (Decimal both ways)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import falcon

from bookkeeper.domain.ledger import entry_reason
from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from
from bookkeeper.services.billing.pass_reads import PassReads
from bookkeeper.services.payments.postings import (
    EntryNotFound,
    PaymentError,
    PostingRefused,
    apply_payment,
    delete_manual_entry,
    find_registration,
    manual_debit,
)
from crossbar_api.access import account_for
from crossbar_api.csv_export import stream_csv, wants_csv
from crossbar_api.csv_rows import ENTRY_HEADER, entry_rows
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_request
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import gregorian_param, page_position, whole_param
from crossbar_api.kazoo_ledgers import public_json
from crossbar_api.ledger_body import parse_ledger_request
from crossbar_api.ledger_store import find_ledger
from crossbar_api.transaction_pages import every_entry, newest_first

DEFAULT_PAGE_SIZE = 50
MAX_RANGE_DAYS = 400


def _ports(deps: ApiDeps) -> BillingPorts:
    return BillingPorts(deps.store, deps.clock, deps.design_docs)


def _now_gregorian(deps: ApiDeps) -> int:
    return gregorian_now(deps.clock)


class CurrentBalance:
    """GET .../transactions/current_balance → {balance} (4.2) and .../ledgers/total → {amount} (4.3)."""

    def __init__(self, deps: ApiDeps, key: str):
        self.deps, self.key = deps, key

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        book = LedgerBook(self.deps.store, self.deps.design_docs, settled_reads=True)  # a read: one view query
        units = book.current_balance(account_id, _now_gregorian(self.deps))
        answer(req, resp, {self.key: to_major(units)})


def transaction_json(entry: dict[str, Any]) -> dict[str, Any]:
    """A ledger entry as the API shows it: no pvt_ fields, amounts in currency units."""
    meta = (entry.get("metadata") or {}).get("kazbill") or {}
    return {
        "id": entry["_id"],
        "type": entry.get("pvt_ledger_type"),
        "amount": to_major(entry.get("amount", 0)),
        "reason": entry_reason(entry),
        "code": meta.get("code"),
        "description": entry.get("description", ""),
        "created": entry.get("pvt_created"),
        "period": entry.get("period"),
        "usage": entry.get("usage"),
        "item": {k: meta[k] for k in ("category", "item", "quantity", "ratio") if k in meta} or None,
    }


def _everything(entry: dict[str, Any]) -> bool:
    return True


class Transactions:
    """GET .../transactions?created_from=&created_to=&reason=&page_size=&start_key="""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        now = _now_gregorian(self.deps)
        created_to = gregorian_param(req, "created_to") or now
        created_from = gregorian_param(req, "created_from") or created_to - 30 * 86_400
        if created_from > created_to:
            raise invalid("created_from", "range", "must not be after created_to")
        if created_to - created_from > MAX_RANGE_DAYS * 86_400:
            raise invalid("created_to", "range", f"a range covers at most {MAX_RANGE_DAYS} days")
        page_size = whole_param(req, "page_size", 1, 500) or DEFAULT_PAGE_SIZE
        reason = req.get_param("reason")
        keep: Callable[[dict[str, Any]], bool] = (lambda doc: entry_reason(doc) == reason) if reason else _everything
        first, last = (local_day_of_gregorian(t, "UTC") for t in (created_from, created_to))
        # Which of the range's months exist: one listing of the account's databases, not a probe
        # each, and none for a past month found without one a moment ago (month_listing.py).
        reads = PassReads(self.deps.store)  # a month found gone is forgotten by the process too
        book = LedgerBook(reads, self.deps.design_docs)
        months = months_from((first.year, first.month), (last.year, last.month))
        month_dbs = self.deps.absent_months.month_dbs(book, account_id, months, now, time.monotonic())
        if wants_csv(req):  # every entry of the range, newest first, as the index shows it
            entries = every_entry(reads, month_dbs, (created_from, created_to), keep)
            stream_csv(resp, f"transactions-{account_id}.csv", ENTRY_HEADER, entry_rows(entries))
            return
        start_key = req.get_param("start_key")
        position = page_position(start_key) if start_key else None
        page, following = newest_first(
            reads,
            month_dbs,
            (created_from, created_to),
            page_size,
            position,
            keep,
            self.deps.month_tops,
        )
        extra: dict[str, Any] = {"page_size": len(page)}
        if following is not None:
            extra["next_start_key"] = f"{following.created}:{following.entry_id}"
        if start_key:
            extra["start_key"] = start_key
        answer(req, resp, [transaction_json(entry.doc) for entry in page], **extra)


class ManualLedger:
    """PUT .../ledgers/credit and .../ledgers/debit: a reseller's credit (a wire transfer, a manual
    addition) or debit (a balance correction), in Kazoo's own body (crossbar_api/ledger_body.py),
    answered as kz_ledger:public_json shows the document written (cb_ledgers.erl:389-391). An
    Idempotency-Key makes a repeat answer the first entry (200) and post nothing."""

    def __init__(self, deps: ApiDeps, direction: str):
        self.deps, self.direction = deps, direction

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        body = read_request(req)
        if body.get("impact_reseller") not in (None, False):  # cb_ledgers.erl:383-418
            raise invalid(
                "impact_reseller",
                "unsupported",
                "Kazbill posts to the account alone; its reseller's ledger is the reseller's own to credit or debit",
            )
        request = parse_ledger_request(body["data"], self.direction, _now_gregorian(self.deps))
        account_for(req, self.deps, account_id, write=True, from_above=True)
        key = req.get_header("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
            raise invalid("Idempotency-Key", "format", "must be 1 to 200 printable characters")
        external_id = key or uuid.uuid4().hex
        caller = req.context.caller
        by = caller.user_id or f"api_key:{caller.account_id}"
        try:
            if self.direction == "credit":
                events = apply_payment(
                    _ports(self.deps),
                    account_id,
                    amount=request.amount,
                    reason=request.reason,
                    external_id=external_id,
                    description=request.description,
                    by=by,
                    ledger_fields=request.fields,
                )
            else:
                events = manual_debit(
                    _ports(self.deps),
                    account_id,
                    amount=request.amount,
                    external_id=external_id,
                    description=request.description,
                    by=by,
                    ledger_fields=request.fields,
                )
        except PostingRefused as error:
            raise _cannot_be_billed(error) from None
        except PaymentError as error:
            raise invalid(error.field, "invalid", error.reason) from None
        registration = self._registration(account_id, request.reason, external_id)
        if registration["amount"] != request.amount or registration["ledger_type"] != self.direction:
            raise ApiError(
                409,
                "this Idempotency-Key was used for another request",
                {"Idempotency-Key": {"unique": {"message": "send a new key for a new posting"}}},
            )
        entry = find_ledger(
            self.deps,
            account_id,
            events[0].details.get("entry_id") or registration["entry_id"],
            _now_gregorian(self.deps),
        )
        if entry is None:
            raise ApiError(500, "the posting was not recorded")
        answer(req, resp, public_json(entry), status=200 if events[0].name == "posting_duplicate" else 201)

    def _registration(self, account_id: str, reason: str, external_id: str) -> dict[str, Any]:
        registration = find_registration(self.deps.store, account_id, reason, external_id)
        if registration is None:
            raise ApiError(500, "the posting was not recorded")
        return registration


def _cannot_be_billed(refused: PostingRefused) -> ApiError:
    """A posting (or its undoing) the account cannot take: 400, naming the document's field."""
    return ApiError(400, "the account cannot be billed", {refused.field: {"billing": {"message": refused.reason}}})


class LedgerEntry:
    """DELETE .../ledgers/{ledger}, `ledger` a manual entry's id: undo a manual credit or debit
    (and only those) with an opposite entry; the original stays, so the ledger keeps its history."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_delete(self, req: falcon.Request, resp: falcon.Response, account_id: str, ledger: str) -> None:
        entry_id = ledger
        account_for(req, self.deps, account_id, write=True, from_above=True)
        caller = req.context.caller
        try:
            events = delete_manual_entry(
                _ports(self.deps), account_id, entry_id, by=caller.user_id or f"api_key:{caller.account_id}"
            )
        except PostingRefused as error:
            raise _cannot_be_billed(error) from None
        except PaymentError as error:
            status = 404 if isinstance(error, EntryNotFound) else 400
            raise ApiError(status, error.reason, {"entry_id": {"manual": {"message": error.reason}}}) from None
        first = events[0]
        answer(
            req,
            resp,
            {
                "deleted": entry_id,
                "by_entry": first.details.get("entry_id"),
                "replayed": first.name == "posting_duplicate",
            },
        )
