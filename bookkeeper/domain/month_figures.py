"""An account's month in figures, kept in the account directory beside its summary: the month's
ledger summed per Kazoo source (`source.service`) and per what was charged (Kazbill's category,
`calls` for per-minute calls, else the source's own name). A reseller's revenue for a month is
then one grouped view query over the accounts below it, however many there are, instead of a
query into each account's monthly database.

Like the summary, it is a cache of what the account's last billing pass saw (the pass compares
the month's total it read with the figures' and refreshes them when they differ), never an input
to billing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bookkeeper.domain.periods import Month

FIGURES_TYPE = "kazbill_month_figures"
FIGURES_DUE = "figures_due"  # noted with a pass's summary, never stored: it wrote, read its figures again


def figures_id(account_id: str, month: Month) -> str:
    return f"figures-{account_id}-{month_key(month)}"


def month_key(month: Month) -> str:
    return f"{month[0]:04d}{month[1]:02d}"


def month_figures(
    *,
    account_id: str,
    month: Month,
    tree: Sequence[str],
    currency: str,
    sums: Mapping[tuple[str, str], int],
    now_gregorian: int,
) -> dict[str, Any]:
    """`sums`: the month's signed sums per (source, category); `total` is their sum, the month's
    balance as Kazoo reads it, which the next pass compares with the balance it reads."""
    by_source: dict[str, dict[str, int]] = {}
    for (source, category), amount in sorted(sums.items()):
        by_source.setdefault(source, {})[category] = amount
    return {
        "_id": figures_id(account_id, month),
        "pvt_type": FIGURES_TYPE,
        "account_id": account_id,
        "month": month_key(month),
        "tree": list(tree),
        "currency": currency,
        "sums": by_source,
        "total": sum(sums.values()),
        "pvt_modified": now_gregorian,
    }


def figures_changed(stored: Mapping[str, Any] | None, fresh: Mapping[str, Any]) -> bool:
    if stored is None:
        return True
    return any(stored.get(key) != fresh.get(key) for key in ("tree", "currency", "sums", "total"))
