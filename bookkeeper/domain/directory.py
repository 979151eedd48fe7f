"""The account directory: one summary per billed account, what a reseller's customer list shows
at a glance (name, realm, where it sits in the tree, balance, standing, block, trial, monthly
charges), kept by the billing passes in one database so that a list of 10,000 customers is one
view query, not a balance query into 10,000 account databases.

A summary is a cache of what the last pass decided, never an input to billing: the account's
own databases stay the truth, and the summary says when its balance was read (`balance_at`).
A pass writes it only when something a reseller would see has changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SUMMARY_TYPE = "kazbill_account_summary"
# Fields that change with every pass without changing what the list shows.
_STAMPS = ("_rev", "balance_at", "pvt_modified", "pvt_created")


def account_summary(
    *,
    account_id: str,
    name: str,
    realm: str | None,
    tree: Sequence[str],
    reseller_id: str,
    currency: str,
    balance: int,
    standing: Mapping[str, Any] | None,
    trial_expires: int | None,
    monthly: int,
    closed: bool,
    now_gregorian: int,
) -> dict[str, Any]:
    """The summary of an account as a pass leaves it; `standing` is its kazbill_standing document
    (None before its first evaluation: good, as every new account starts)."""
    standing = standing or {}
    return {
        "_id": account_id,
        "pvt_type": SUMMARY_TYPE,
        "name": name,
        "realm": realm,
        "tree": list(tree),
        "parent_id": tree[-1] if tree else None,
        "reseller_id": reseller_id,
        "currency": currency,
        "balance": balance,
        "balance_at": now_gregorian,
        "standing": standing.get("status", "good_standing"),
        "blocked": bool(standing.get("blocked")),
        "reasons": list(standing.get("reasons", [])),
        "amount_to_restore": standing.get("amount_to_restore", 0),
        "trial_expires": trial_expires,
        "monthly": monthly,
        "closed": closed,
        "pvt_modified": now_gregorian,
    }


def with_changes(stored: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stored summary with `changes` applied, or None when nothing a reader sees would change
    (so nothing is written). Changes to an account without a summary are a whole summary, or
    nothing: a balance alone (the call path's) waits for the account's first pass."""
    if stored is None:
        return dict(changes) if changes.get("pvt_type") == SUMMARY_TYPE else None
    merged = {**stored, **changes}
    if _visible(merged) == _visible(stored):
        return None
    return merged


def _visible(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key not in _STAMPS}
