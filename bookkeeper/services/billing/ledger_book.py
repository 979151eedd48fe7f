"""An account's ledger across its monthly databases: creating a month, its rollover, the
balance, and writing entries exactly once, in Kazoo's UTC months (domain/kazoo_months.py).

Kazoo's balance is the signed sum of the current UTC month's ledgers, one of which carries the
previous month's total (`YYYYMM-ledgers_monthly_rollover`). Kazbill writes that rollover the way
Kazoo does when it first needs a month (zero, and the first month, included) and keeps one that
exists. Every entry goes into the UTC month it is written in, with that month's prefix; before
writing, its event part is looked for by id in every month from the one before its business
month to the month before now, and the current month refuses it by its id, so a replay is
"already done" whatever the dates. A write that lands in a month someone
rolled over meanwhile (the midnight race) is carried into the next month by a correction.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, overload

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.kazoo_months import (
    Month,
    event_part,
    month_start,
    months_from,
    next_month,
    placed_in,
    previous_month,
    utc_month,
)
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.ledger import signed_amount
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.ledger_readback import ledger_total, remember_written
from bookkeeper.services.billing.ledger_rollovers import CARRY_CHECK_S, HISTORY_DOC, Rollovers
from bookkeeper.services.billing.pass_reads import PassReads, database_exists_now, store_identity
from bookkeeper.services.setup.store_setup import install_design_docs

__all__ = [
    "CARRY_CHECK_S",
    "HISTORY_DOC",
    "LedgerBook",
    "Month",
    "months_from",
    "next_month",
    "previous_month",
    "utc_month",
]

# Per store, the monthly databases this process has seen carry Kazbill's design documents.
_DESIGNED: weakref.WeakKeyDictionary[DocumentStore, set[str]] = weakref.WeakKeyDictionary()


@dataclass
class LedgerBook(Rollovers):
    store: DocumentStore
    design_docs: Sequence[DesignDoc]
    settled_reads: bool = False  # a balance reader may go by _SETTLED (see there)
    # Months whose rollover this book has already made sure of (a book lives for one pass).
    _carried: set[tuple[str, Month]] = field(default_factory=set, repr=False)
    # How each period the pass priced has been charging its categories (ledger.period_schemes),
    # noted by growth from the entries it read, for the daily fees to go by without reading again.
    schemes: dict[date, dict[str, str]] = field(default_factory=dict, repr=False)

    @overload
    def month_db(self, account_id: str, month: Month, *, create: Literal[True]) -> str: ...
    @overload
    def month_db(self, account_id: str, month: Month, *, create: Literal[False]) -> str | None: ...

    def month_db(self, account_id: str, month: Month, *, create: bool) -> str | None:
        db = account_modb(account_id, *month)
        if self.store.database_exists(db):
            self._designed(db)
            return db
        if not create:
            return None
        if self.store.ensure_database(db):
            install_design_docs(self.store, db, self.design_docs)
            _DESIGNED.setdefault(store_identity(self.store), set()).add(db)
        else:
            self._designed(db)
        return db

    def _designed(self, db: str) -> None:
        """Kazoo creates monthly databases itself (its first CDR or ledger of the month), without
        Kazbill's views: install them the first time this process meets such a database."""
        known = _DESIGNED.setdefault(store_identity(self.store), set())
        if db not in known:
            install_design_docs(self.store, db, self.design_docs)
            known.add(db)

    def month_total(self, db: str, now_gregorian: int | None = None) -> int:
        """The month's signed sum; given `now`, this process's latest writes are counted even
        where a cluster's copy answering the view has not got them yet (ledger_readback.py)."""
        if now_gregorian is not None:
            return ledger_total(self.store, db, now_gregorian)
        rows = self.store.query_view(db, "kazbill_ledgers", "balance_by_service").rows
        return rows[0].value if rows else 0

    def balance(self, account_id: str, month: Month, now_gregorian: int) -> int:
        """The balance as Kazoo sees it in `month`: that month's ledgers, rollover included."""
        self.ensure_rollover(account_id, month, now_gregorian)
        try:
            return self.month_total(account_modb(account_id, *month), now_gregorian)
        except DatabaseNotFound:  # gone since this process saw its rollover: made sure of again
            self.forget_settled(account_id, month)
            if not self.settled_reads:
                raise
            self.settled_reads = False
            self.ensure_rollover(account_id, month, now_gregorian)
            return self.month_total(account_modb(account_id, *month), now_gregorian)

    def current_balance(self, account_id: str, now_gregorian: int) -> int:
        """The balance Kazoo reads now: the current UTC month's."""
        return self.balance(account_id, utc_month(now_gregorian), now_gregorian)

    def balance_at(self, account_id: str, until_gregorian: int) -> int:
        """The balance at an instant: its UTC month's rollover (whenever it was written) plus the
        entries created until then."""
        month = utc_month(until_gregorian)
        self.ensure_rollover(account_id, month, until_gregorian)
        created_until = ledger_total(
            self.store, account_modb(account_id, *month), until_gregorian, until=until_gregorian
        )
        carrying = self._carrying(account_id, month)
        counted = sum(signed_amount(doc) for doc in carrying if (doc.get("pvt_created") or 0) <= until_gregorian)
        return created_until - counted + sum(signed_amount(doc) for doc in carrying)

    def existing_ids(self, account_id: str, ids: Sequence[str], first: Month, last: Month) -> set[str]:
        """The event parts of `ids` already written in a month from `first` to `last`."""
        found: set[str] = set()
        for month in months_from(first, last):
            # Asked of the store, not of the pass's listing: a month another writer creates while
            # the pass runs may hold this very event (written under that month's prefix). One
            # read answers both whether the month exists and what it holds of these events.
            db = account_modb(account_id, *month)
            try:
                held = self.store.get_many(db, [placed_in(i, month) for i in ids])
            except DatabaseNotFound:
                continue
            found |= {event_part(doc_id) for doc_id in held}
        return found

    def write(
        self,
        account_id: str,
        entries: Sequence[Mapping[str, Any]],
        business_month: Month,
        now_gregorian: int,
    ) -> list[str]:
        """Write the entries not written before into the current UTC month; returns the ids
        written now (with that month's prefix). The months before the current one are read by
        id for these events (on a cluster a read by id asks a quorum, where a view answers from
        one copy, which may not have a write made a moment ago); the current month is not read:
        an entry already there has the very id this write gives it, and refuses the write (a
        conflict is not written, and not returned), soft-deleted or not, as the read would have
        found it. A request less for each pass that writes."""
        if not entries:
            return []
        target = utc_month(now_gregorian)
        first = previous_month(min(business_month, target))
        done = self.existing_ids(account_id, [entry["_id"] for entry in entries], first, previous_month(target))
        fresh = [entry for entry in entries if event_part(entry["_id"]) not in done]
        if not fresh:
            return []
        self.ensure_rollover(account_id, target, now_gregorian)
        db = account_modb(account_id, *target)
        fresh = [{**entry, "_id": placed_in(entry["_id"], target), "pvt_account_db": db} for entry in fresh]
        written = self._put_ledgers(db, fresh, now_gregorian)
        if written and month_start(next_month(target)) - now_gregorian < 600:
            # Written in the month's last minutes: if the next month was rolled over meanwhile
            # (Kazoo's clock a little ahead), carry it there now rather than at the next pass.
            self._carried.discard((account_id, next_month(target)))
            if database_exists_now(self.store, account_modb(account_id, *next_month(target))) and self._has_rollover(
                account_modb(account_id, *next_month(target)), next_month(target)
            ):
                self._carry_what_came_late(account_id, next_month(target), now_gregorian)
        return written

    def _put_ledgers(self, db: str, docs: Sequence[Mapping[str, Any]], now_gregorian: int) -> list[str]:
        """Write, and remember what was written for the reads that follow (ledger_readback.py)."""
        written = [result.id for result in self.store.bulk_put(db, docs) if result.ok]
        taken = set(written)
        remember_written(self.store, db, [doc for doc in docs if doc["_id"] in taken], now_gregorian)
        return written

    def entries(
        self, account_id: str, view: str, keys: Sequence[str], months: Sequence[Month], then: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Kazbill's entries listed by `charges_by_period` or `charges_by_day` under the given
        period starts or days, across the given months. `then`: the keys a pass asks for next
        from the same months, read with these (PassReads.rows_under)."""
        found: list[dict[str, Any]] = []
        for month in months:
            db = self.month_db(account_id, month, create=False)
            if db is None:
                continue
            for key in keys:
                if isinstance(self.store, PassReads):
                    rows = self.store.rows_under(db, "kazbill_ledgers", view, key, then)
                else:
                    query = ViewQuery(start_key=[key], end_key=[key, {}], include_docs=True)
                    rows = self.store.query_view(db, "kazbill_ledgers", view, query).rows
                found += [dict(row.doc) for row in rows if row.doc]
        return found
