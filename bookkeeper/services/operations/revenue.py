"""A reseller's revenue figures for one month: what its accounts were billed and what they paid,
per currency and per ledger source (Kazoo's `source.service`: `services` for subscriptions and
daily fees, `per-minute-voip` for calls, `payments` for money in, the corrections' own names),
and what was billed per service category (devices, users, phone_numbers, limits... as the plan
names them, and calls). The categories of a billed source add up to it: a prorated credit is
netted in its category, so a category credited more than it was charged that month shows below
zero.

Added up from the accounts' month figures in the directory (bookkeeper/domain/month_figures.py),
one grouped view query however many accounts there are below: as of each account's last billing
pass, like the rest of the directory (a call is in its account's balance at once and in these
figures from the account's next pass, at the latest the next day's crawl).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bookkeeper.domain.month_figures import month_key
from bookkeeper.domain.periods import Month
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.billing.directory import DIRECTORY_DB

NOT_REVENUE = ("rollovers",)  # a month's carried-over balance is no money moving


@dataclass
class CurrencyRevenue:
    currency: str
    billed: dict[str, int] = field(default_factory=dict)  # per source, units debited (positive)
    collected: dict[str, int] = field(default_factory=dict)  # per source, units credited (positive)
    by_category: dict[str, int] = field(default_factory=dict)  # the billed sources' categories, net debited

    @property
    def billed_total(self) -> int:
        return sum(self.billed.values())

    @property
    def collected_total(self) -> int:
        return sum(self.collected.values())


def revenue_below(store: DocumentStore, above: str, month: Month) -> list[CurrencyRevenue]:
    """The month's figures of every account below `above`, per currency."""
    mk = month_key(month)
    try:
        rows = store.query_view(
            DIRECTORY_DB,
            "kazbill_directory",
            "figures_by_ancestor",
            ViewQuery(start_key=[above, mk], end_key=[above, mk, {}], group_level=5),
        ).rows
    except DatabaseNotFound:  # nothing billed yet anywhere
        return []
    sums: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in rows:
        _, _, currency, source, category = row.key
        if isinstance(row.value, int):
            sums[str(currency)][(str(source), str(category))] = row.value
    found = []
    for currency, by_key in sorted(sums.items()):
        figures = CurrencyRevenue(currency)
        add_up_month(figures, by_key)
        found.append(figures)
    return found


def add_up_month(figures: CurrencyRevenue, by_key: dict[tuple[str, str], int]) -> None:
    """Each source net: billed when it took money, collected when it brought some; a billed
    source's categories as they netted."""
    by_source: dict[str, int] = defaultdict(int)
    for (source, _), amount in by_key.items():
        by_source[source] += amount
    for source, amount in by_source.items():
        if source in NOT_REVENUE or amount == 0:
            continue
        target = figures.collected if amount > 0 else figures.billed
        target[source] = target.get(source, 0) + abs(amount)
    for (source, category), amount in by_key.items():
        if by_source[source] < 0 and source not in NOT_REVENUE and amount != 0:
            figures.by_category[category] = figures.by_category.get(category, 0) - amount
