"""Keeping each account's month figures (bookkeeper/domain/month_figures.py) beside its directory
summary, when the summaries a pass or a batch left are written: the figures of the pass's month
are read again (one grouped view query into the account's monthly database) only when the
month's total they hold is not the balance the pass read, so a pass that moved no money costs
one shared read per batch. An account's first pass of a month refreshes the month before too:
the entries that came after its last pass there (the closing days' calls, Kazoo's rollover)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bookkeeper.domain.directory import SUMMARY_TYPE
from bookkeeper.domain.kazoo_months import month_start
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.domain.month_figures import FIGURES_DUE, figures_changed, figures_id, month_figures
from bookkeeper.domain.periods import Month, previous_month
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.ledger_book import CARRY_CHECK_S

Wanted = dict[str, tuple[Mapping[str, Any], Month]]  # figures id -> (the pass's summary, its month)


def figures_wanted(summaries: Iterable[Mapping[str, Any]]) -> Wanted:
    """The figures the passes' summaries may need refreshed: each pass's month (read together with
    the summaries, one request for both)."""
    return {
        figures_id(summary["_id"], month): (summary, month)
        for summary in summaries
        if summary.get("pvt_type") == SUMMARY_TYPE and (month := _month(summary.get("figures_month"))) is not None
    }


def refresh_month_figures(
    store: DocumentStore, directory_db: str, wanted: Wanted, stored: Mapping[str, Mapping[str, Any]]
) -> None:
    """`stored`: what the directory holds under `wanted`'s ids (absent: none)."""
    due: Wanted = {}
    for doc_id, (summary, month) in wanted.items():
        kept = stored.get(doc_id)
        if kept is None or summary.get(FIGURES_DUE) or _moved(kept, summary):
            due[doc_id] = (summary, month)
            if kept is None or _early_in(month, summary):  # its last entries may have come since
                due[figures_id(summary["_id"], previous_month(month))] = (summary, previous_month(month))
    if not due:
        return
    earlier = [doc_id for doc_id in due if doc_id not in wanted]
    stored = {**stored, **(store.get_many(directory_db, earlier) if earlier else {})}
    fresh = []
    for doc_id, (summary, month) in due.items():
        sums = _month_sums(store, summary["_id"], month)
        if sums is None:
            continue  # no such month: nothing was billed or paid
        kept = stored.get(doc_id)
        # A month stays with the reseller and currency it began under: an account moved to
        # another reseller counts in the new one's figures from the next month (a month split
        # between two would add one reseller's roubles to the other's euros).
        owner = kept if kept is not None else summary
        doc = month_figures(
            account_id=summary["_id"],
            month=month,
            tree=owner.get("tree") or [],
            currency=str(owner.get("currency") or ""),
            sums=sums,
            now_gregorian=int(summary.get("balance_at") or 0),
        )
        if figures_changed(kept, doc):
            fresh.append({**doc, **({"_rev": kept["_rev"]} if kept else {})})
    if fresh:
        store.bulk_put(directory_db, fresh)  # one lost to a race is refreshed by the next pass


def _moved(kept: Mapping[str, Any], summary: Mapping[str, Any]) -> bool:
    """The month's total is not the balance the pass read."""
    return kept.get("total") != summary.get("balance")


def _early_in(month: Month, summary: Mapping[str, Any]) -> bool:
    """Within the days a month's rollover is checked against the month it closes: entries of the
    month before may still come (the closing day's calls, Kazoo's own)."""
    return int(summary.get("balance_at") or 0) - month_start(month) < CARRY_CHECK_S


def _month(key: Any) -> Month | None:
    if not isinstance(key, str) or len(key) != 6 or not key.isdigit() or not 1 <= int(key[4:]) <= 12:
        return None
    return int(key[:4]), int(key[4:])


def _month_sums(store: DocumentStore, account_id: str, month: Month) -> dict[tuple[str, str], int] | None:
    try:
        rows = store.query_view(
            account_modb(account_id, *month), "kazbill_ledgers", "balance_by_category", ViewQuery(group_level=2)
        ).rows
    except (DatabaseNotFound, NotFound):  # no such month, or one without Kazbill's views yet
        return None
    return {(str(row.key[0]), str(row.key[1])): int(row.value) for row in rows if isinstance(row.value, int)}
