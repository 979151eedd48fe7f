"""The daily crawl's low-balance step: the account's spell below its reseller's threshold is kept
in its database (`kazbill_low_balance`), so that a warning goes out once per crossing and on
the spell's reminder days, not every day (bookkeeper/domain/low_balance.py has the rules)."""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.low_balance import LowBalanceState, low_balance_day
from bookkeeper.domain.notices import NoticeDraft
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.billing.context import BillingContext

LOW_BALANCE_DOC_ID = "kazbill_low_balance"


def low_balance_warning(
    store: DocumentStore, context: BillingContext, today: date, balance: int, charged_monthly: bool
) -> list[NoticeDraft]:
    """Today's low-balance warning, if any; records where the spell stands when that changed.
    Nothing is read or written for a reseller that set no threshold."""
    threshold = context.reseller.low_balance_threshold
    if threshold is None:
        return []
    db = account_db(context.account_id)
    stored = store.get_many(db, [LOW_BALANCE_DOC_ID]).get(LOW_BALANCE_DOC_ID)
    state = LowBalanceState.from_doc(stored)
    after, draft = low_balance_day(
        state,
        today=today,
        balance=balance,
        threshold=threshold,
        charged_monthly=charged_monthly,
        reminder_days=context.reseller.low_balance_reminder_days,
    )
    if after != state:
        update_doc(store, db, LOW_BALANCE_DOC_ID, after.as_doc(), default={"pvt_type": "kazbill_low_balance"})
    return [draft] if draft else []
