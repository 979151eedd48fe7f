"""The account's directory summary as the pass leaves it (bookkeeper/domain/directory.py),
built from what the pass already read: the account document (the batch's), its standing
document (the pass's own, read again only when the pass wrote it) and the balance it used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bookkeeper.domain.directory import account_summary
from bookkeeper.domain.kazoo_months import utc_month
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.month_figures import FIGURES_DUE, month_key
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.services.billing.account_pass.inputs import PassInputs
from bookkeeper.services.billing.account_pass.standing import STANDING_DOC_ID
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.billing.directory import note_summary


def note_pass_summary(inputs: PassInputs, balance: int, monthly: Sequence[ItemPrice], *, wrote: bool = False) -> None:
    """`wrote`: the pass wrote entries, so the month's figures are read again even if the balance
    came out where it was (a payment and the fee it paid, in one pass)."""
    summary = pass_summary(inputs, balance, monthly)
    note_summary(inputs.ports.directory, inputs.store, {**summary, FIGURES_DUE: True} if wrote else summary)


def pass_summary(inputs: PassInputs, balance: int, monthly: Sequence[ItemPrice]) -> dict[str, Any]:
    store, context = inputs.store, inputs.context
    account = get_or_none(store, ACCOUNTS_DB, inputs.account_id) or {}
    standing = store.get_many(account_db(inputs.account_id), [STANDING_DOC_ID]).get(STANDING_DOC_ID)
    summary = account_summary(
        account_id=inputs.account_id,
        name=context.account_name,
        realm=account.get("realm"),
        tree=account.get("pvt_tree") or [],
        reseller_id=context.reseller_id,
        currency=context.reseller.currency,
        balance=balance,
        standing=standing,
        trial_expires=context.account.trial_expires,
        monthly=sum(price.monthly for price in monthly),
        closed=context.closed_gregorian is not None,
        now_gregorian=inputs.now_gregorian,
    )
    # The month whose balance the pass read: its figures are refreshed when they do not add up to it.
    return {**summary, "figures_month": month_key(utc_month(inputs.now_gregorian))}
