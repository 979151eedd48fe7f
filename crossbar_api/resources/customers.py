"""GET .../customers: the accounts below one account (a reseller's customers, its sub-resellers'
too), by name, with balance, standing, block, trial and monthly charges at a glance; searched
(`q`, a part of the name or realm), filtered (`depth=children`, `standing`, `blocked`, `trial`,
`closed`), paged (`page_size`, `start_key` from the previous page's `next_start_key`), or all of
them as CSV (`Accept: text/csv` or `format=csv`, streamed).

Read from the account directory the billing passes keep (bookkeeper/domain/directory.py): the
balance is the one the account's last pass read, at `balance_at`; the account's own
`billing_status` and `ledgers/total` read it live.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.domain.money import to_major
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.directory import DIRECTORY_DB
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.operations.customer_listing import (
    CustomerFilter,
    Position,
    all_customers,
    customers_page,
)
from crossbar_api.access import account_for
from crossbar_api.csv_export import stream_csv, wants_csv
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import whole_param

DEFAULT_PAGE_SIZE = 50
MAX_SEARCH = 100
STANDINGS = ("good_standing", "delinquent")
CSV_HEADER = (
    "id",
    "name",
    "realm",
    "parent_id",
    "currency",
    "balance",
    "balance_at",
    "standing",
    "blocked",
    "trial",
    "trial_expires",
    "monthly",
    "closed",
)
QUERY = ("q", "depth", "standing", "blocked", "trial", "closed", "page_size", "start_key", "format")


class Customers:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        wanted = customer_filter(req)
        now = gregorian_now(self.deps.clock)
        if wants_csv(req):
            rows = all_customers(self.deps.store, account_id, wanted, now)
            stream_csv(resp, f"customers-{account_id}.csv", CSV_HEADER, csv_rows(rows, now))
            return
        page_size = whole_param(req, "page_size", 1, 500) or DEFAULT_PAGE_SIZE
        start = req.get_param("start_key")
        page = customers_page(
            self.deps.store,
            account_id,
            wanted,
            now,
            page_size=page_size,
            start=position_of(start) if start else None,
        )
        extra: dict[str, Any] = {"page_size": len(page.summaries)}
        if page.next_position is not None:
            extra["next_start_key"] = key_of(page.next_position)
        if start:
            extra["start_key"] = start
        answer(req, resp, [public_row(summary, now) for summary in page.summaries], **extra)


class AccountSummary:
    """GET .../summary: the account's row of its reseller's list (name, realm, standing, trial,
    monthly charges...), with its balance read now rather than at its last billing pass."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        summary = self.deps.store.get_many(DIRECTORY_DB, [account_id]).get(account_id)
        if summary is None:
            raise ApiError(
                404,
                "bad identifier",
                {
                    "account_id": {
                        "billed": {"message": "not billed yet: its summary is written by its first billing pass"}
                    }
                },
            )
        now = gregorian_now(self.deps.clock)
        balance = LedgerBook(self.deps.store, self.deps.design_docs, settled_reads=True).current_balance(
            account_id, now
        )
        answer(req, resp, public_row({**summary, "balance": balance, "balance_at": now}, now))


def customer_filter(req: falcon.Request) -> CustomerFilter:
    search = req.get_param("q")
    if search is not None and len(search) > MAX_SEARCH:
        raise invalid("q", "maxLength", f"a search is at most {MAX_SEARCH} characters")
    depth = req.get_param("depth") or "all"
    if depth not in ("all", "children"):
        raise invalid("depth", "enum", "must be children or all")
    standing = req.get_param("standing") or None  # a form's "any standing" sends it empty
    if standing is not None and standing not in STANDINGS:
        raise invalid("standing", "enum", f"must be one of {', '.join(STANDINGS)}")
    return CustomerFilter(
        search=search.strip() or None if search else None,
        children_only=depth == "children",
        standing=standing,
        blocked=_flag(req, "blocked"),
        trial=_flag(req, "trial"),
        closed=bool(_flag(req, "closed")),
    )


def _flag(req: falcon.Request, name: str) -> bool | None:
    raw = req.get_param(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise invalid(name, "type", "must be true or false")
    return raw == "true"


def key_of(position: Position) -> str:
    """An opaque page key: the position, as JSON, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def position_of(raw: str) -> Position:
    try:
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        raise invalid("start_key", "format", "use the next_start_key of the previous page")
    return value[0], value[1]


def public_row(summary: dict[str, Any], now_gregorian: int) -> dict[str, Any]:
    trial_expires = summary.get("trial_expires")
    return {
        "id": summary["_id"],
        "name": summary.get("name"),
        "realm": summary.get("realm"),
        "parent_id": summary.get("parent_id"),
        "reseller_id": summary.get("reseller_id"),
        "currency": summary.get("currency"),
        "balance": to_major(summary.get("balance", 0)),
        "balance_at": summary.get("balance_at"),
        "standing": summary.get("standing", "good_standing"),
        "blocked": bool(summary.get("blocked")),
        "reasons": summary.get("reasons", []),
        "amount_to_restore": to_major(summary.get("amount_to_restore", 0)),
        "trial": isinstance(trial_expires, int) and trial_expires > now_gregorian,
        "trial_expires": trial_expires,
        "monthly": to_major(summary.get("monthly", 0)),
        "closed": bool(summary.get("closed")),
    }


def csv_rows(summaries: Iterator[dict[str, Any]], now_gregorian: int) -> Iterator[list[Any]]:
    for summary in summaries:
        row = public_row(summary, now_gregorian)
        yield [
            row["id"],
            row["name"],
            row["realm"],
            row["parent_id"],
            row["currency"],
            row["balance"],
            _iso(row["balance_at"]),
            row["standing"],
            row["blocked"],
            row["trial"],
            _iso(row["trial_expires"]),
            row["monthly"],
            row["closed"],
        ]


def _iso(gregorian: Any) -> str | None:
    if not isinstance(gregorian, int):
        return None
    return datetime.fromtimestamp(from_gregorian_seconds(gregorian), UTC).isoformat(timespec="seconds")
