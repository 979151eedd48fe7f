"""An account's monthly rollovers, as Kazoo makes them (`YYYYMM-ledgers_monthly_rollover`: the
previous month's total carried into the month's balance), and the midnight race's corrections:
the part of LedgerBook (ledger_book.py) that makes sure a month carries the months before it."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from bookkeeper.domain.kazoo_months import (
    Month,
    month_start,
    months_from,
    next_month,
    prefix,
    previous_month,
    rollover_document,
    rollover_id,
)
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.domain.ledger import signed_amount
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.pass_reads import database_exists_now, known_to_exist, store_identity

CARRY_CHECK_S = 2 * 86_400  # how long into a month its rollover is checked against the month it closes
MAX_ROLLOVER_DEPTH = 36  # months of history looked back for, once per account
HISTORY_DOC = "kazbill_ledger_history"

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


class Rollovers:
    """Mixed into LedgerBook, whose store, months and writes it uses."""

    if TYPE_CHECKING:
        store: DocumentStore
        settled_reads: bool
        _carried: set[tuple[str, Month]]

        @overload
        def month_db(self, account_id: str, month: Month, *, create: Literal[True]) -> str: ...
        @overload
        def month_db(self, account_id: str, month: Month, *, create: Literal[False]) -> str | None: ...
        def month_db(self, account_id: str, month: Month, *, create: bool) -> str | None: ...

        def month_total(self, db: str, now_gregorian: int | None = None) -> int: ...

        def _put_ledgers(self, db: str, docs: Sequence[Mapping[str, Any]], now_gregorian: int) -> list[str]: ...

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

    def forget_settled(self, account_id: str, month: Month) -> None:
        """The month's database went away since its rollover was seen: made sure of again."""
        _SETTLED.get(store_identity(self.store), set()).discard((account_id, month))
        self._carried.discard((account_id, month))

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
