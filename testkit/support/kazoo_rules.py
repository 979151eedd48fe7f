"""Kazoo 4.3's balance rules, written here from Kazoo's source, to check Kazbill against Kazoo
rather than against Kazbill's own idea of it.

kz_currency:available_units(Account) → kz_ledgers:total_sources(Account, []) (4.3,
core/kazoo_ledgers/src/kz_ledgers.erl:60-84): the month is today's in UTC (`erlang:date()`);
its `ledgers/total_by_source` view (every `pvt_type: ledger` document not soft-deleted, signed
by `pvt_ledger_type`) is reduced with group_level 1, and the sum counts only if one row is
`["rollovers"]` (sum_sources, :141-156). Without that row Kazoo makes the rollover itself from
the previous month's total_sources (rollover_past_available_units, :392-410; zero when that
month has no database) and writes it with `kazoo_modb:save_doc`, keeping one that exists (a
conflict, :444-450). So a month once rolled over never changes its successor again.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from bookkeeper.domain.kazoo_names import account_modb, to_gregorian_seconds
from bookkeeper.ports import Conflict, DocumentStore, ViewQuery

Month = tuple[int, int]


def _previous(month: Month) -> Month:
    return (month[0] - 1, 12) if month[1] == 1 else (month[0], month[1] - 1)


def total_by_source(store: DocumentStore, account_id: str, month: Month) -> dict[str, int]:
    """What Kazoo's total_by_source view, grouped at level 1, answers for the month."""
    sources: dict[str, int] = {}
    for row in store.all_docs(account_modb(account_id, *month), ViewQuery(include_docs=True)).rows:
        doc: dict[str, Any] = dict(row.doc or {})
        if doc.get("pvt_deleted") or doc.get("pvt_type") != "ledger":
            continue
        amount = doc.get("amount") or 0
        service = (doc.get("source") or {}).get("service")
        sources[service] = sources.get(service, 0) + (-amount if doc.get("pvt_ledger_type") == "debit" else amount)
    return sources


def total_sources(store: DocumentStore, account_id: str, month: Month, now: datetime) -> int:
    """kz_ledgers:total_sources for a month, writing the rollover as Kazoo would."""
    db = account_modb(account_id, *month)
    store.ensure_database(db)  # kazoo_modb creates a missing month on first use
    sources = total_by_source(store, account_id, month)
    if "rollovers" in sources:
        return sum(sources.values())
    before = _previous(month)
    carried = (
        total_sources(store, account_id, before, now) if store.database_exists(account_modb(account_id, *before)) else 0
    )
    rollover_id = f"{month[0]:04d}{month[1]:02d}-ledgers_monthly_rollover"
    with contextlib.suppress(Conflict):  # written meanwhile: Kazoo keeps the one that exists
        store.put(
            db,
            {
                "_id": rollover_id,
                "pvt_type": "ledger",
                "pvt_ledger_type": "debit" if carried < 0 else "credit",
                "amount": abs(carried),
                "source": {"service": "rollovers", "id": rollover_id[:6]},
                "usage": {"type": "rollovers", "quantity": 0, "unit": "month"},
                "pvt_created": to_gregorian_seconds(int(now.timestamp())),
            },
        )
    return sum(total_by_source(store, account_id, month).values())


def kazoo_balance(store: DocumentStore, account_id: str, now: datetime) -> int:
    """The balance jonny5 authorises calls with and crossbar's ledgers/total shows, at `now`."""
    utc = now.astimezone(UTC)
    return total_sources(store, account_id, (utc.year, utc.month), now)


def kazoo_rollover_task(store: DocumentStore, account_id: str, now: datetime) -> None:
    """Kazoo's task at 00:00 UTC on the 1st: every account's new month rolled over."""
    kazoo_balance(store, account_id, now)


def jonny5_debit(store: DocumentStore, account_id: str, call_id: str, amount: int, at: datetime) -> str:
    """A per-minute call debit as jonny5 writes it: into the month of `at` in UTC, source
    `per-minute-voip`, the Call-ID as source id (j5_per_minute / kz_ledger:debit)."""
    utc = at.astimezone(UTC)
    month = (utc.year, utc.month)
    db = account_modb(account_id, *month)
    store.ensure_database(db)
    gregorian = to_gregorian_seconds(int(at.timestamp()))
    doc_id = f"{month[0]:04d}{month[1]:02d}-{call_id}"
    store.put(
        db,
        {
            "_id": doc_id,
            "pvt_type": "ledger",
            "pvt_ledger_type": "debit",
            "amount": amount,
            "source": {"service": "per-minute-voip", "id": call_id},
            "usage": {"type": "voice", "quantity": 60, "unit": "sec"},
            "period": {"start": gregorian - 60, "end": gregorian},
            "account": {"id": account_id},
            "pvt_account_id": account_id,
            "pvt_created": gregorian,
            "pvt_modified": gregorian,
        },
    )
    return doc_id
