"""What an account holds, as one read of `kazbill_quantities/holdings`: its users, devices and
periodic fees with their lifetimes, its trunks, its phone numbers. A billing pass counts them
(context.py) and dates them (quantity_history.py) from this one answer: one request on CouchDB
where three views used to cost three, and, on a cluster, a count and its dates that can never
come from two copies at different points (a number counted by one and not yet dated by the
other would be billed from too early)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.billing.pass_reads import QUANTITY_DESIGN

HOLDINGS_VIEW = "holdings"

Row = tuple[Any, Any, str | None]  # (key, value, doc id)


@dataclass(frozen=True)
class Holdings:
    lifetimes: list[Row]  # ([category, item], [created, deleted, modified, count], doc id)
    limits: list[tuple[Any, Any]]  # (["limits", trunk], count)
    numbers: list[Row]  # (number, {state, features, modified}, doc id)

    def billable_rows(self) -> list[tuple[Any, Any]]:
        """(key [category, item], count) of what counts now: every live user, device and fee,
        and the trunks (quantities_from_views adds up the rows of one key)."""
        live = [(key, _count(value)) for key, value, _ in self.lifetimes if not _deleted(value)]
        return live + self.limits

    def number_rows(self) -> list[tuple[Any, Any]]:
        return [(number, value) for number, value, _ in self.numbers]


def read_holdings(store: DocumentStore, account_id: str) -> Holdings:
    rows = store.query_view(account_db(account_id), QUANTITY_DESIGN, HOLDINGS_VIEW, ViewQuery()).rows
    lifetimes: list[Row] = []
    limits: list[tuple[Any, Any]] = []
    numbers: list[Row] = []
    for row in rows:
        key = row.key
        if isinstance(key, list) and len(key) == 2 and key[0] == "numbers":
            numbers.append((key[1], row.value, row.id))
        elif isinstance(key, list) and len(key) == 2 and key[0] == "limits":
            limits.append((key, row.value))
        else:
            lifetimes.append((key, row.value, row.id))
    return Holdings(lifetimes, limits, numbers)


def _deleted(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 4 and value[1] is True


def _count(value: Any) -> Any:
    """The row's count, as the view gave it (counting refuses one that is not a whole number)."""
    return value[3] if isinstance(value, list) and len(value) == 4 else value
