"""Next month's ledger database, made a few days ahead, as Kazoo makes it.

Kazoo 4.3 creates every account's next monthly database from the 28th on, spread over the days
left (applications/tasks/src/modules/kt_modb_creation.erl:45-52 and 64-84, `creation_day`
default 28), so that the first call or ledger entry of a month never waits for one. Kazbill's
daily crawl does the same for the accounts it bills, with Kazbill's views in it: creating a
database is the dearest request CouchDB answers (on this machine it makes about 80 a second,
each shard a file), and at a month's start every account's period opens within minutes. No
rollover is written ahead: a month's rollover carries the month before's total when the month
has begun (ledger_book.ensure_rollover)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bookkeeper.domain.kazoo_months import next_month, utc_month
from bookkeeper.domain.kazoo_names import from_gregorian_seconds
from bookkeeper.ports import StoreError
from bookkeeper.services.billing.ledger_book import LedgerBook

PREPARED_FROM_DAY = 28  # Kazoo's own default creation day
log = logging.getLogger("kazbill.billing")


def prepare_next_month(book: LedgerBook, account_id: str, now_gregorian: int) -> str | None:
    """The next month's database once the month's 28th (UTC) has come, made if missing. Only an
    optimisation: a store that fails it (a slow creation timing out) is logged, and the pass that
    asked, its charges and notices queued already, stands; the next day's crawl tries again."""
    if datetime.fromtimestamp(from_gregorian_seconds(now_gregorian), UTC).day < PREPARED_FROM_DAY:
        return None
    try:
        return book.month_db(account_id, next_month(utc_month(now_gregorian)), create=True)
    except StoreError as error:
        log.warning("next month's database for %s not made ahead: %s", account_id, error)
        return None
