"""A reseller's revenue figures for one month: what its accounts were billed and what they paid,
per currency and per ledger source (Kazoo's `source.service`: `services` for subscriptions and
daily fees, `per-minute-voip` for calls, `payments` for money in, the corrections' own names),
added up from each account's monthly database (one grouped view query an account).

Kazoo keeps each account's ledger in its own databases, so there is no one index across them: a
month's figures read every account below, which is fine for a few thousand and too slow for a
request beyond that (LIVE_LIMIT; the accounts list and the dashboard's totals come from the
directory instead and have no such limit).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.periods import Month
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.directory import DIRECTORY_DB

LIVE_LIMIT = 2000
NOT_REVENUE = ("rollovers",)  # a month's carried-over balance is no money moving


class TooManyAccounts(Exception):
    pass


@dataclass
class CurrencyRevenue:
    currency: str
    billed: dict[str, int] = field(default_factory=dict)  # per source, units debited (positive)
    collected: dict[str, int] = field(default_factory=dict)  # per source, units credited (positive)
    accounts: int = 0

    @property
    def billed_total(self) -> int:
        return sum(self.billed.values())

    @property
    def collected_total(self) -> int:
        return sum(self.collected.values())


def revenue_below(store: DocumentStore, above: str, month: Month) -> list[CurrencyRevenue]:
    """The month's figures of every open account below `above`, per currency."""
    rows = store.query_view(
        DIRECTORY_DB,
        "kazbill_directory",
        "by_ancestor",
        ViewQuery(start_key=[above], end_key=[above, {}], limit=LIVE_LIMIT + 1),
    ).rows
    if len(rows) > LIVE_LIMIT:
        raise TooManyAccounts(f"more than {LIVE_LIMIT} accounts below; the figures would take too long to add up now")
    ids = [str(row.id) for row in rows if not row.value[6]]  # closed accounts left out
    summaries = store.get_many(DIRECTORY_DB, ids) if ids else {}
    found: dict[str, CurrencyRevenue] = {}
    sums: dict[str, dict[str, int]] = defaultdict(dict)
    for account_id in ids:
        currency = str((summaries.get(account_id) or {}).get("currency") or "")
        figures = found.setdefault(currency, CurrencyRevenue(currency))
        figures.accounts += 1
        for source, amount in _by_source(store, account_id, month).items():
            sums[currency][source] = sums[currency].get(source, 0) + amount
    for currency, by_source in sums.items():
        for source, amount in by_source.items():
            if source in NOT_REVENUE or amount == 0:
                continue
            target = found[currency].collected if amount > 0 else found[currency].billed
            target[source] = target.get(source, 0) + abs(amount)
    return sorted(found.values(), key=lambda figures: figures.currency)


def _by_source(store: DocumentStore, account_id: str, month: Month) -> dict[str, int]:
    try:
        rows = store.query_view(
            account_modb(account_id, *month), "kazbill_ledgers", "balance_by_service", ViewQuery(group_level=1)
        ).rows
    except (DatabaseNotFound, NotFound):  # no such month, or one Kazbill has not touched yet
        return {}
    return {str(row.key[0]): int(row.value) for row in rows if isinstance(row.value, int)}
