"""Kazoo's months: which monthly database a ledger document belongs in, and its rollover.

Kazoo's month is UTC. Its balance (kz_currency:available_units → kz_ledgers:total_sources)
reads the monthly database of today in UTC (`erlang:date()`, core/kazoo_ledgers/src/
kz_ledgers.erl:91,299 in 4.3), and its task runner writes each account's rollover at 00:00
UTC on the 1st; an entry written into a month after that month was rolled over is invisible
to the balance from then on. So every ledger document goes into the month of the moment it is
written, in UTC, with that month's prefix on its id (kazoo_modb:open_doc finds a document by
its prefix), whatever the reseller's local day or business period, which stay in the entry's
metadata. The part of an id after the prefix names the business event and never changes: it is
how a replay a month later still finds the entry "already done".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bookkeeper.domain.kazoo_ledger import kazoo_ledger
from bookkeeper.domain.kazoo_names import from_gregorian_seconds, gregorian_of

# Kazoo's months are calendar months: stepped through as everywhere else (re-exported here).
from bookkeeper.domain.periods import Month as Month
from bookkeeper.domain.periods import months_from as months_from
from bookkeeper.domain.periods import next_month as next_month
from bookkeeper.domain.periods import previous_month as previous_month

ROLLOVER = "ledgers_monthly_rollover"


def utc_month(gregorian_seconds: int) -> Month:
    moment = datetime.fromtimestamp(from_gregorian_seconds(gregorian_seconds), UTC)
    return moment.year, moment.month


def month_start(month: Month) -> int:
    """The month's first second, UTC, in Gregorian seconds."""
    return gregorian_of(datetime(month[0], month[1], 1, tzinfo=UTC))


def prefix(month: Month) -> str:
    return f"{month[0]:04d}{month[1]:02d}"


def event_part(doc_id: str) -> str:
    """The id without its month prefix: what names the business event."""
    head, dash, rest = doc_id.partition("-")
    return rest if dash and len(head) == 6 and head.isdigit() else doc_id


def placed_in(doc_id: str, month: Month) -> str:
    return f"{prefix(month)}-{event_part(doc_id)}"


def rollover_id(month: Month) -> str:
    return f"{prefix(month)}-{ROLLOVER}"


def rollover_document(
    account_id: str, account_name: str, month: Month, total: int, db: str, now_gregorian: int
) -> dict[str, Any]:
    """The rollover Kazoo writes (kz_ledgers:rollover/4): the previous month's total, zero
    included, a credit unless it is negative; `account` and `period` so that the ledger summary
    lists it too."""
    return kazoo_ledger(
        rollover_id(month),
        "debit" if total < 0 else "credit",
        abs(total),
        description=f"Monthly rollover for {prefix(month)}",
        source={"service": "rollovers", "id": prefix(month)},
        usage={"type": "rollovers", "quantity": 0, "unit": "month"},
        period={"start": now_gregorian, "end": now_gregorian},
        account_id=account_id,
        account_name=account_name,
        metadata={"automatic_description": True},
        executor={"trigger": "automatic", "module": "kazbill"},
        db=db,
        now_gregorian=now_gregorian,
    )
