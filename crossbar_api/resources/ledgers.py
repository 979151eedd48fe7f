"""An account's ledgers as cb_ledgers serves them (applications/crossbar/src/modules/
cb_ledgers.erl, Kazoo 4.3):

    GET .../ledgers                          per source service: amount and usage, created in a range
    GET .../ledgers/available                the ledger sources the account's reseller registered
    GET .../ledgers/{ledger}                 the ledgers of one source service, newest first, paged
    GET .../ledgers/{ledger}/{entry_id}      one of them
    GET .../ledgers/summary/{YYYYMM}         a month: per source, and per account (`breakdown`)

Ranges are `created_from`/`created_to` in Gregorian seconds, at most Kazoo's default
crossbar.maximum_range apart (31 days and an hour; crossbar.hrl:191-194), the last 31 days and
an hour by default (crossbar_view:time_range, crossbar_view.erl:534-563). Lists are paged as
crossbar_view pages them: `page_size` (50 by default), an opaque `start_key`/`next_start_key`,
`paginate=false` for everything, `ascending=true` for oldest first.
"""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.settings import SettingsError
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.context import find_reseller, get_or_none
from crossbar_api.access import account_for
from crossbar_api.csv_export import stream_csv, wants_csv
from crossbar_api.csv_rows import ENTRY_HEADER, entry_rows
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import gregorian_param, page_position, whole_param
from crossbar_api.kazoo_ledgers import breakdown_by_account, public_json, summary_by_service
from crossbar_api.ledger_store import (
    fetch_page,
    find_ledger,
    ledgers_created,
    modb_month,
    month_ledgers,
    source_rows,
)
from crossbar_api.resources.money import LedgerEntry

MAX_RANGE = 31 * 86_400 + 3_600
DEFAULT_PAGE_SIZE = 50  # crossbar's pagination_page_size
# kz_ledgers' own default (core/kazoo_ledgers/src/kz_ledgers.erl:32-50), when no account above
# registered others.
DEFAULT_AVAILABLE = (
    {"name": "per-minute-voip", "friendly_name": "Per Minute VoIP", "markup_type": ["percentage"]},
    {"name": "services", "friendly_name": "Monthly Recurring Services", "markup_type": []},
    {"name": "payments", "friendly_name": "Payments", "markup_type": []},
    {"name": "rollovers", "friendly_name": "Monthly Rollover", "markup_type": []},
)
CONFIG_DOC = "configs_ledgers"  # kapps_config_util:account_doc_id(<<"ledgers">>)
KAZOO_SYSTEM_CONFIG = "system_config"  # Kazoo's own, not Kazbill's kazbill_system


def _now(deps: ApiDeps) -> int:
    return gregorian_now(deps.clock)


def time_range(req: falcon.Request, now: int) -> tuple[int, int]:
    created_to = gregorian_param(req, "created_to") or now
    created_from = gregorian_param(req, "created_from") or created_to - MAX_RANGE
    if not 0 <= created_to - created_from <= MAX_RANGE:
        raise invalid(
            "created_from", "date_range", f"created_to must be from created_from to {MAX_RANGE} seconds after it"
        )
    return created_from, created_to


def _flag(req: falcon.Request, name: str) -> bool | None:
    raw = req.get_param(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise invalid(name, "type", "must be true or false")
    return raw.lower() == "true"


def _page(req: falcon.Request, rows: list[tuple[int, str, str]]) -> tuple[list[tuple[int, str, str]], dict[str, Any]]:
    """crossbar_view's paging over (created, id, db) rows: descending unless ascending=true."""
    ascending = _flag(req, "ascending") is True and _flag(req, "descending") is not True
    rows = sorted(rows, key=lambda row: (row[0], row[1]), reverse=not ascending)
    if _flag(req, "paginate") is False:
        return rows, {}
    page_size = whole_param(req, "page_size", 1, 1000) or DEFAULT_PAGE_SIZE
    start_key = req.get_param("start_key")
    if start_key:
        position = page_position(start_key)
        rows = [row for row in rows if ((row[0], row[1]) >= position if ascending else (row[0], row[1]) <= position)]
    page, rest = rows[:page_size], rows[page_size:]
    extra: dict[str, Any] = {"page_size": len(page)}
    if rest:
        extra["next_start_key"] = f"{rest[0][0]}:{rest[0][1]}"
    if start_key:
        extra["start_key"] = start_key
    return page, extra


class Ledgers:
    """GET .../ledgers: per source service, what was credited or debited in the range."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        created_from, created_to = time_range(req, _now(self.deps))
        answer(req, resp, summary_by_service(ledgers_created(self.deps, account_id, created_from, created_to)))


class AvailableLedgers:
    """GET .../ledgers/available: kz_ledgers:available_ledgers, which reads `registered_ledgers`
    from the account's own `configs_ledgers` document, else from its reseller's, then Kazoo's
    system_config, then kz_ledgers' default (kapps_account_config:get_global,
    core/kazoo_apps/src/kapps_account_config.erl:115-163)."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        store = self.deps.store
        config = get_or_none(store, account_db(account_id), CONFIG_DOC)
        if config is None:
            try:
                reseller_id = find_reseller(store, account)[1]
            except SettingsError:
                reseller_id = account_id
            config = get_or_none(store, account_db(reseller_id), CONFIG_DOC) if reseller_id != account_id else None
        registered = (config or {}).get("registered_ledgers")
        if not isinstance(registered, list):
            system = (get_or_none(store, KAZOO_SYSTEM_CONFIG, "ledgers") or {}).get("default")
            registered = system.get("registered_ledgers") if isinstance(system, dict) else None
        answer(req, resp, registered if isinstance(registered, list) else [dict(entry) for entry in DEFAULT_AVAILABLE])


class SourceLedgers(LedgerEntry):
    """GET .../ledgers/{ledger}: the ledgers of one source service in the range, each as
    kz_ledger:public_json shows it (cb_ledgers.erl:169-175 and 453-460). DELETE on the same path
    takes a manual entry's id (LedgerEntry)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, ledger: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        created_from, created_to = time_range(req, _now(self.deps))
        rows = source_rows(self.deps, account_id, ledger, created_from, created_to)
        if wants_csv(req):  # e.g. per-minute-voip: every call of the range, a chunk at a time
            rows = sorted(rows, key=lambda row: (row[0], row[1]))
            chunks = (fetch_page(self.deps, rows[first : first + 500]) for first in range(0, len(rows), 500))
            stream_csv(resp, f"{ledger}-{account_id}.csv", ENTRY_HEADER, entry_rows(d for c in chunks for d in c))
            return
        page, extra = _page(req, rows)
        answer(req, resp, [public_json(doc) for doc in fetch_page(self.deps, page)], **extra)


class SourceLedger:
    """GET .../ledgers/{ledger}/{entry_id}: one ledger document, if it belongs to that source
    service; any other is a bad identifier (cb_ledgers.erl:186-205)."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, ledger: str, entry_id: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        doc = find_ledger(self.deps, account_id, entry_id, _now(self.deps))
        if doc is None or (doc.get("source") or {}).get("service") != ledger:
            raise ApiError(
                404,
                "bad identifier",
                {"entry_id": {"exists": {"message": f"no {ledger} ledger {entry_id} in this account"}}},
            )
        answer(req, resp, public_json(doc), revision=doc.get("_rev"))


class LedgerSummary:
    """GET .../ledgers/summary/{YYYYMM}: one month of the account's ledgers, per source service
    (`summary`) and per account and source (`breakdown`), as cb_ledgers:build_summary gives them
    (cb_ledgers.erl:274-290)."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, modb_suffix: str) -> None:
        account_for(req, self.deps, account_id, recent=True)
        # kazoo_modb_util:get_modb_suffix (core/kazoo_modb/src/kazoo_modb_util.erl:131-143): YYYYMM
        # or YYYYM; here also a month of the calendar.
        suffix = modb_suffix if len(modb_suffix) == 6 else f"{modb_suffix[:4]}0{modb_suffix[4:]}"
        month = modb_month(f"{suffix}-x") if len(modb_suffix) in (5, 6) else None
        if month is None:
            raise ApiError(
                404,
                "bad identifier",
                {"modb_suffix": {"format": {"message": f"{modb_suffix!r} is not a month; use YYYYMM, e.g. 202611"}}},
            )
        docs = month_ledgers(self.deps, account_id, month)
        answer(req, resp, {"summary": summary_by_service(docs), "breakdown": breakdown_by_account(docs)})
