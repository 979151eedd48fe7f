"""Which months of a range have an account's ledger database, for the transactions pages.

A month with a database is known to the process once seen (databases stay: pass_reads.py). A
month without one was asked again on every request, one listing of the account's databases each
time: a customer created this month has no database for the month before, and the default range
(the last 30 days) reaches into it, so every page of its transactions cost a request more. A
month found without a database is now remembered for a minute once it ended two days ago.
Kazoo 4.3 never makes one for a past month: a call's record goes to the month its interaction
began in, and a missing month database is created only for the current month
(cdr_channel_destroy.erl:189-201, kazoo_modb.erl:430-458, branch 4.3 at 223893d); Kazbill writes
its entries into the current UTC month. What can still make one is Kazbill carrying a rollover
across months an account had no database for (ledger_rollovers.py) or an import: those show
within the minute."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bookkeeper.domain.kazoo_months import Month, month_start, next_month
from bookkeeper.services.billing.ledger_book import LedgerBook

PAST_AFTER_S = 2 * 86_400  # how long after its end a month is taken to get no new database
ABSENT_FOR_S = 60.0  # how long its absence is trusted
MAX_REMEMBERED = 100_000  # (account, month) pairs; past it the memory starts afresh


class AbsentMonths:
    """One per API (ApiDeps): per worker process."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, Month], float] = {}  # (account, month) -> monotonic seconds
        self._lock = threading.Lock()

    def month_dbs(
        self, book: LedgerBook, account_id: str, months: Iterable[Month], now_gregorian: int, now_monotonic: float
    ) -> list[str]:
        """The databases of `months` that exist, in their order (Kazoo's own months get Kazbill's
        views, as LedgerBook.month_db gives them)."""
        found = []
        for month in months:
            key = (account_id, month)
            with self._lock:
                until = self._until.get(key)
            if until is not None and now_monotonic < until:
                continue
            db = book.month_db(account_id, month, create=False)
            if db is not None:
                found.append(db)
            elif now_gregorian - month_start(next_month(month)) >= PAST_AFTER_S:
                with self._lock:
                    if len(self._until) >= MAX_REMEMBERED:
                        self._until.clear()
                    self._until[key] = now_monotonic + ABSENT_FOR_S
        return found
