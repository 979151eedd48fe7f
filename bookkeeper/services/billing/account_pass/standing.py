"""The account's standing after the pass: good, delinquent or blocked, kept in its
`kazbill_standing` document with what a payment must bring to restore service, and mirrored
into Kazoo's own block (set_blocked) when it changes."""

from __future__ import annotations

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.standing import Standing, amount_to_restore, evaluate_standing, standing_events
from bookkeeper.ports import Conflict, NotFound
from bookkeeper.services.billing.account_docs import set_blocked
from bookkeeper.services.billing.account_pass.inputs import PassInputs
from bookkeeper.services.billing.account_pass.pass_ledger import PassLedger
from bookkeeper.services.billing.events import STANDING_EVENTS, BillingEvent

STANDING_DOC_ID = "kazbill_standing"
STANDING_ATTEMPTS = 3


def reevaluate_standing(inputs: PassInputs, ledger: PassLedger, unpaid_charges: int | None) -> list[BillingEvent]:
    """The standing events the pass caused. Re-evaluates on a conflict: a payment posted by the
    API and a shard's pass may both re-evaluate at once, and the later one must decide on the
    other's outcome."""
    events: list[BillingEvent] = []
    for attempt in range(STANDING_ATTEMPTS):
        try:
            _reevaluate_once(inputs, ledger, unpaid_charges, events)
            break
        except Conflict:
            if attempt == STANDING_ATTEMPTS - 1:
                raise
            ledger.read_balance_again()
    return events


def _reevaluate_once(
    inputs: PassInputs, ledger: PassLedger, unpaid_charges: int | None, events: list[BillingEvent]
) -> None:
    store, db = inputs.store, account_db(inputs.account_id)
    try:
        stored = store.get(db, STANDING_DOC_ID)
    except NotFound:
        stored = {"_id": STANDING_DOC_ID, "pvt_type": "kazbill_standing"}
    before = (
        Standing(stored["status"], stored["blocked"], tuple(stored.get("reasons", ()))) if "status" in stored else None
    )
    context = inputs.context
    after = evaluate_standing(
        balance=ledger.balance(),
        credit_line=context.credit_line,
        manual_block=context.account.manual_block,
        blocking_enabled=context.reseller.blocking_enabled,
        created_day=local_day_of_gregorian(context.account.created, context.reseller.timezone),
        today=inputs.today,
        grace_days=context.reseller.new_account_grace_days,
        currently_blocked=before.blocked if before else False,
        unpaid_period=unpaid_charges is not None,
    )
    # Shown to the customer (the payments page, the notices): what a payment must bring.
    restore = (
        0
        if after.in_good_standing or context.account.manual_block
        else amount_to_restore(
            balance=ledger.balance(), credit_line=context.credit_line, unpaid_charges=unpaid_charges or 0
        )
    )
    if before == after and stored.get("amount_to_restore", 0) == restore:
        return
    store.put(
        db,
        {
            **stored,
            "status": after.status,
            "blocked": after.blocked,
            "reasons": list(after.reasons),
            "amount_to_restore": restore,
            "pvt_modified": inputs.now_gregorian,
        },
    )
    if before == after:
        return
    for name in standing_events(before, after):
        events.append(BillingEvent(STANDING_EVENTS[name], inputs.account_id, {"reasons": list(after.reasons)}))
        if name in ("blocked", "unblocked"):
            set_blocked(store, inputs.account_id, name == "blocked", inputs.now_gregorian)
