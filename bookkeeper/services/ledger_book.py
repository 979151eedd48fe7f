"""An account's ledger across its monthly databases: creating a month, its rollover, the
balance, and writing entries exactly once.

Kazoo's balance is the signed sum of the current month's ledgers, one of which carries the
previous month's total (`YYYYMM-ledgers_monthly_rollover`). Kazbill writes that rollover when it
first needs a month, as Kazoo would, and never writes into a month that is already over: an
entry for a past day (a replay, a catch-up after downtime) lands in the current month, with the
id its business event gives it. Before writing, ids are looked up in every month from the
event's to the current one, so a late replay of an entry written earlier is still "already done".
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.kazoo_names import account_db, account_modb, modb_doc_id
from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.store_setup import install_design_docs

ROLLOVER = "ledgers_monthly_rollover"
MAX_ROLLOVER_DEPTH = 36  # months of history looked back for, once per account
HISTORY_DOC = "kazbill_ledger_history"

Month = tuple[int, int]
# Per store, the monthly databases this process has seen carry Kazbill's design documents.
_DESIGNED: "weakref.WeakKeyDictionary[DocumentStore, set[str]]" = weakref.WeakKeyDictionary()


def next_month(month: Month) -> Month:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def previous_month(month: Month) -> Month:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def months_from(first: Month, last: Month) -> list[Month]:
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


@dataclass
class LedgerBook:
    store: DocumentStore
    design_docs: Sequence[DesignDoc]
    # Months whose rollover this book has already made sure of (a book lives for one pass).
    _carried: set[tuple[str, Month]] = field(default_factory=set, repr=False)

    def month_db(self, account_id: str, month: Month, *, create: bool) -> str | None:
        db = account_modb(account_id, *month)
        if self.store.database_exists(db):
            self._designed(db)
            return db
        if not create:
            return None
        if self.store.ensure_database(db):
            install_design_docs(self.store, db, self.design_docs)
        self._designed(db)
        return db

    def _designed(self, db: str) -> None:
        """Kazoo creates monthly databases itself (its first CDR or ledger of the month), without
        Kazbill's views: install them the first time this process meets such a database."""
        known = _DESIGNED.setdefault(self.store, set())
        if db not in known:
            install_design_docs(self.store, db, self.design_docs)
            known.add(db)

    def month_total(self, db: str) -> int:
        rows = self.store.query_view(db, "kazbill_ledgers", "balance_by_service").rows
        return rows[0].value if rows else 0

    def ensure_rollover(self, account_id: str, month: Month, now_gregorian: int) -> None:
        """Make sure `month` exists and carries the balance of the months before it: find the
        latest earlier month with a database (months without one had no entries), make sure
        that one is complete, then carry its total forward month by month."""
        if (account_id, month) in self._carried:
            return
        db = self.month_db(account_id, month, create=True)
        if self._has_rollover(db, month):
            self._carried.add((account_id, month))
            return
        first = self._first_month(account_id, month)
        latest, probe = None, previous_month(month)
        while probe >= first:
            if self.month_db(account_id, probe, create=False) is not None:
                latest = probe
                break
            probe = previous_month(probe)
        if latest is not None:  # else there is no history before this month
            self.ensure_rollover(account_id, latest, now_gregorian)
            for carried in months_from(next_month(latest), month):
                self._write_rollover(account_id, carried, now_gregorian)
        self._carried.add((account_id, month))

    def _first_month(self, account_id: str, month: Month) -> Month:
        """The account's first month with a ledger database. Found once by looking back (Kazoo may
        have written months before Kazbill came) and kept on the account, so that a new account
        is not probed for three years of missing databases on every request."""
        db = account_db(account_id)
        known = self.store.get_many(db, [HISTORY_DOC]).get(HISTORY_DOC) if self.store.database_exists(db) else None
        if known and isinstance(known.get("first_month"), list):
            return tuple(known["first_month"])  # type: ignore[return-value]
        earliest, probe = month, previous_month(month)
        for _ in range(MAX_ROLLOVER_DEPTH):
            if self.month_db(account_id, probe, create=False) is not None:
                earliest = probe
            probe = previous_month(probe)
        if self.store.database_exists(db):
            self.store.bulk_put(db, [{"_id": HISTORY_DOC, "pvt_type": "kazbill_history",
                                      "first_month": list(earliest)}])  # a conflict: someone found it first
        return earliest

    def _has_rollover(self, db: str, month: Month) -> bool:
        rollover_id = modb_doc_id(*month, ROLLOVER)
        return rollover_id in self.store.get_many(db, [rollover_id])

    def _write_rollover(self, account_id: str, month: Month, now_gregorian: int) -> None:
        db = self.month_db(account_id, month, create=True)
        if self._has_rollover(db, month):
            return
        previous = previous_month(month)
        total = self.month_total(account_modb(account_id, *previous))
        if total == 0:
            return  # Kazoo's ledgers hold positive amounts only; a zero rollover is no rollover
        rollover_id = modb_doc_id(*month, ROLLOVER)
        self.store.bulk_put(db, [{
            "_id": rollover_id, "pvt_type": "ledger", "pvt_ledger_type": "credit" if total > 0 else "debit",
            "amount": abs(total), "description": f"Balance carried over from {previous[0]:04d}-{previous[1]:02d}",
            "source": {"service": "rollovers", "id": rollover_id},
            "usage": {"type": "rollovers", "quantity": 0, "unit": "month"},
            "account": {"id": account_id}, "pvt_account_id": account_id, "pvt_account_db": db,
            "pvt_created": now_gregorian, "pvt_modified": now_gregorian, "pvt_vsn": "1",
        }])  # a conflict means Kazoo (or another pass) wrote it first: the same total

    def balance(self, account_id: str, month: Month, now_gregorian: int) -> int:
        """The balance as Kazoo sees it in `month`: that month's ledgers, rollover included."""
        self.ensure_rollover(account_id, month, now_gregorian)
        return self.month_total(account_modb(account_id, *month))

    def balance_at(self, account_id: str, month: Month, until_gregorian: int) -> int:
        """The balance at an instant of `month`: its rollover plus the entries created until then."""
        self.ensure_rollover(account_id, month, until_gregorian)
        rows = self.store.query_view(account_modb(account_id, *month), "kazbill_ledgers", "balance_by_created",
                                     ViewQuery(end_key=until_gregorian)).rows
        return rows[0].value if rows else 0

    def existing_ids(self, account_id: str, ids: Sequence[str], first: Month, last: Month) -> set[str]:
        found: set[str] = set()
        for month in months_from(first, last):
            db = self.month_db(account_id, month, create=False)
            if db is not None:
                found |= set(self.store.get_many(db, ids))
        return found

    def write(self, account_id: str, entries: Sequence[Mapping[str, Any]], business_month: Month,
              current_month: Month, now_gregorian: int) -> list[str]:
        """Write the entries not written before; returns the ids written now."""
        if not entries:
            return []
        target = max(business_month, current_month)
        ids = [entry["_id"] for entry in entries]
        done = self.existing_ids(account_id, ids, min(business_month, target), target)
        fresh = [entry for entry in entries if entry["_id"] not in done]
        if not fresh:
            return []
        self.ensure_rollover(account_id, target, now_gregorian)
        db = account_modb(account_id, *target)
        fresh = [{**entry, "pvt_account_db": db} for entry in fresh]
        return [result.id for result in self.store.bulk_put(db, fresh) if result.ok]

    def entries(self, account_id: str, view: str, keys: Sequence[str], months: Sequence[Month]) -> list[dict[str, Any]]:
        """Kazbill's entries listed by `charges_by_period` or `charges_by_day` under the given
        period starts or days, across the given months."""
        found: list[dict[str, Any]] = []
        for month in months:
            db = self.month_db(account_id, month, create=False)
            if db is None:
                continue
            for key in keys:
                rows = self.store.query_view(db, "kazbill_ledgers", view, ViewQuery(
                    start_key=[key], end_key=[key, {}], include_docs=True)).rows
                found += [dict(row.doc) for row in rows if row.doc]
        return found
