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
from typing import Any, Literal, overload

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.kazoo_months import (
    Month,
    event_part,
    month_start,
    months_from,
    next_month,
    placed_in,
    prefix,
    previous_month,
    rollover_document,
    rollover_id,
    utc_month,
)
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.domain.ledger import signed_amount
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.ledger_readback import ledger_total, remember_written
from bookkeeper.services.billing.pass_reads import PassReads, database_exists_now, known_to_exist, store_identity
from bookkeeper.services.setup.store_setup import install_design_docs

__all__ = ["LedgerBook", "Month", "months_from", "next_month", "previous_month", "utc_month"]
CARRY_CHECK_S = 2 * 86_400  # how long into a month its rollover is checked against the month it closes
MAX_ROLLOVER_DEPTH = 36  # months of history looked back for, once per account
HISTORY_DOC = "kazbill_ledger_history"

# Per store, the monthly databases this process has seen carry Kazbill's design documents.
_DESIGNED: weakref.WeakKeyDictionary[DocumentStore, set[str]] = weakref.WeakKeyDictionary()
# Per store, the (account, month) this process has seen carry their rollover after the month's
# carry check. A book that only reads a balance (the API's, `settled_reads`) goes by it and asks
# one view query (three requests more before); writers always check. Bounded: past this it
# starts afresh; a month whose database went away is dropped from it and checked again.
_SETTLED: weakref.WeakKeyDictionary[DocumentStore, set[tuple[str, Month]]] = weakref.WeakKeyDictionary()
_SETTLED_MAX = 200_000
# Per store, the (account, month) whose rollover this process has seen. A rollover, once made,
# stays (Kazoo keeps it; nothing deletes it but the month's database going with the account), so
# a writer that has seen it does not read it again: a request less in every pass and call batch
# that writes (the midnight race's carry check, within its window, still runs). Trusted only while
# the month's database is known to exist (pass_reads.known_to_exist): a request that finds it gone
# takes it out of that registry, and the rollover is looked for again.
_SEEN: weakref.WeakKeyDictionary[DocumentStore, set[tuple[str, Month]]] = weakref.WeakKeyDictionary()


@dataclass
class LedgerBook:
    store: DocumentStore
    design_docs: Sequence[DesignDoc]
    settled_reads: bool = False  # a balance reader may go by _SETTLED (see there)
    # Months whose rollover this book has already made sure of (a book lives for one pass).
    _carried: set[tuple[str, Month]] = field(default_factory=set, repr=False)

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

    def ensure_rollover(self, account_id: str, month: Month, now_gregorian: int) -> None:
        """Make sure `month` exists and carries the balance of the months before it: find the
        latest earlier month with a database (months without one had no entries), make sure
        that one is complete, then carry its total forward month by month."""
        if (account_id, month) in self._carried:
            return
        settled = _SETTLED.setdefault(store_identity(self.store), set())
        if self.settled_reads and (account_id, month) in settled:
            self._carried.add((account_id, month))
            return
        db = self.month_db(account_id, month, create=True)
        seen = _SEEN.setdefault(store_identity(self.store), set())
        if ((account_id, month) in seen and known_to_exist(self.store, db)) or self._has_rollover(db, month):
            if len(seen) >= _SETTLED_MAX:
                seen.clear()
            seen.add((account_id, month))
            if now_gregorian - month_start(month) < CARRY_CHECK_S:
                self._carry_what_came_late(account_id, month, now_gregorian)
            else:  # past the midnight race's window: a rollover that stands stays
                if len(settled) >= _SETTLED_MAX:
                    settled.clear()
                settled.add((account_id, month))
            self._carried.add((account_id, month))
            return
        first = self._first_month(account_id, month)
        latest, probe = None, previous_month(month)
        while probe >= first:
            if self.month_db(account_id, probe, create=False) is not None:
                latest = probe
                break
            probe = previous_month(probe)
        if latest is not None:  # else there is no history before this month: it starts at zero
            self.ensure_rollover(account_id, latest, now_gregorian)
            for carried in months_from(next_month(latest), previous_month(month)):
                self._write_rollover(account_id, carried, now_gregorian)
        self._write_rollover(account_id, month, now_gregorian)
        self._carried.add((account_id, month))

    def _first_month(self, account_id: str, month: Month) -> Month:
        """The account's first month with a ledger database. Found once by looking back (Kazoo may
        have written months before Kazbill came) and kept on the account, so that a new account
        is not probed for three years of missing databases on every request."""
        db = account_db(account_id)
        known = self.store.get_many(db, [HISTORY_DOC]).get(HISTORY_DOC) if self.store.database_exists(db) else None
        if known and isinstance(known.get("first_month"), list):
            return tuple(known["first_month"])
        earliest, probe = month, previous_month(month)
        for _ in range(MAX_ROLLOVER_DEPTH):
            if self.month_db(account_id, probe, create=False) is not None:
                earliest = probe
            probe = previous_month(probe)
        if self.store.database_exists(db):
            self.store.bulk_put(
                db, [{"_id": HISTORY_DOC, "pvt_type": "kazbill_history", "first_month": list(earliest)}]
            )  # a conflict: someone found it first
        return earliest

    def has_rollover(self, account_id: str, month: Month) -> bool:
        db = account_modb(account_id, *month)
        return self.store.database_exists(db) and self._has_rollover(db, month)

    def _has_rollover(self, db: str, month: Month) -> bool:
        return rollover_id(month) in self.store.get_many(db, [rollover_id(month)])

    def _write_rollover(self, account_id: str, month: Month, now_gregorian: int) -> None:
        db = self.month_db(account_id, month, create=True)
        assert db is not None
        if self._has_rollover(db, month):
            return
        previous = account_modb(account_id, *previous_month(month))
        total = self.month_total(previous, now_gregorian) if self.store.database_exists(previous) else 0
        # A conflict means Kazoo (or another pass) wrote it first: that one is kept, as Kazoo keeps it.
        self._put_ledgers(
            db, [rollover_document(account_id, self._name(account_id), month, total, db, now_gregorian)], now_gregorian
        )

    def _name(self, account_id: str) -> str:
        try:
            return str(self.store.get(ACCOUNTS_DB, account_id).get("name") or "")
        except (NotFound, DatabaseNotFound):
            return ""

    def _carry_what_came_late(self, account_id: str, month: Month, now_gregorian: int) -> None:
        """The midnight race: an entry written into the month before while someone (Kazoo's task,
        another Kazbill process) was making `month`'s rollover from that month's total is in
        neither balance. What the rollover and the corrections so far lack is carried over by one
        more correction, whose id names the total it settles (so racing passes write it once)."""
        before = account_modb(account_id, *previous_month(month))
        if not database_exists_now(self.store, before):
            return
        db = account_modb(account_id, *month)
        total = self.month_total(before, now_gregorian)
        missing = total - self.carried_into(account_id, month)
        if missing:
            correction = rollover_document(account_id, self._name(account_id), month, missing, db, now_gregorian)
            self._put_ledgers(
                db,
                [
                    {
                        **correction,
                        "_id": f"{prefix(month)}-kazbill-carry-{prefix(previous_month(month))}-{total}",
                        "description": f"Carried over from {prefix(previous_month(month))} after its rollover was made",
                        "metadata": {"kazbill": {"reason": "rollover_correction", "settles_total": total}},
                    }
                ],
                now_gregorian,
            )

    def carried_into(self, account_id: str, month: Month) -> int:
        """What `month` carries of the month before: its rollover plus the corrections."""
        return sum(signed_amount(doc) for doc in self._carrying(account_id, month))

    def _carrying(self, account_id: str, month: Month) -> list[dict[str, Any]]:
        db = account_modb(account_id, *month)
        first = prefix(month)
        rows = self.store.all_docs(
            db,
            ViewQuery(start_key=f"{first}-kazbill-carry-", end_key=f"{first}-kazbill-carry-\ufff0", include_docs=True),
        ).rows
        docs = [dict(row.doc) for row in rows if row.doc] + list(self.store.get_many(db, [rollover_id(month)]).values())
        return [doc for doc in docs if not doc.get("pvt_deleted")]

    def balance(self, account_id: str, month: Month, now_gregorian: int) -> int:
        """The balance as Kazoo sees it in `month`: that month's ledgers, rollover included."""
        self.ensure_rollover(account_id, month, now_gregorian)
        try:
            return self.month_total(account_modb(account_id, *month), now_gregorian)
        except DatabaseNotFound:  # gone since this process saw its rollover: made sure of again
            _SETTLED.get(store_identity(self.store), set()).discard((account_id, month))
            self._carried.discard((account_id, month))
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
