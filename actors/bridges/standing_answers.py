"""What Kazbill answers Kazoo's standing request: the account's standing as Kazbill's last billing
pass left it in the account's `kazbill_standing` document (bookkeeper/domain/standing.py decides
it after every charge and payment).

Read, never computed here: Kazoo waits 2 s for the answer (kz_services_standing.erl:228-231) and
refuses the change without one, while computing the standing means reading the balance, which may
first have to write a month's rollover. Two reads of documents by id fit the time; a billing pass
does not. The estimated withdrawal Kazoo sends is not weighed: the change, once made, is charged
and the standing re-evaluated by the pass that charges it, as for any change Kazoo announces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.standing import DELINQUENT, GOOD_STANDING
from bookkeeper.ports import DatabaseNotFound, DocumentStore
from bookkeeper.services.billing.account_pass import STANDING_DOC_ID


@dataclass(frozen=True)
class StandingAnswer:
    status: str  # kazoo_replies.STANDING_STATUSES
    reason: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = field(default=None)


def standing_answer(store: DocumentStore, account_id: str) -> StandingAnswer:
    try:
        account = store.get_many(ACCOUNTS_DB, [account_id]).get(account_id)
        stored = store.get_many(account_db(account_id), [STANDING_DOC_ID]).get(STANDING_DOC_ID) if account else None
    except DatabaseNotFound:
        account = stored = None
    if account is None:
        return StandingAnswer("error", "unknown_account", f"Kazbill does not know account {account_id}")
    if stored is None:
        # Not evaluated yet (a new account, before its first pass): every account starts in good
        # standing, as bookkeeper.domain.standing.standing_events takes it to.
        return StandingAnswer(GOOD_STANDING, message=f"account {account_id} is in good standing (not yet billed)")
    status, blocked, reasons = stored.get("status"), stored.get("blocked"), stored.get("reasons", [])
    if status not in (GOOD_STANDING, DELINQUENT) or not isinstance(blocked, bool) or not isinstance(reasons, list):
        return StandingAnswer(
            "error", "bookkeeper_fault", "Kazbill cannot read this account's standing", {"document": STANDING_DOC_ID}
        )
    if status == GOOD_STANDING and not blocked:
        return StandingAnswer(GOOD_STANDING, message=f"account {account_id} is in good standing")
    words = "; ".join(str(reason) for reason in reasons) or "the account is not in good standing"
    return StandingAnswer(
        DELINQUENT,
        "blocked" if blocked else DELINQUENT,
        words[:500],
        {"blocked": blocked, "reasons": [str(reason) for reason in reasons][:20]},
    )
