"""The pass's hold on the account's money: the balance, read once and again only after the pass
wrote, and the writing of entries, each entry written now reported as a `charged` event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.domain.periods import Month
from bookkeeper.domain.standing import funds_check
from bookkeeper.services.billing.account_pass.inputs import PassInputs
from bookkeeper.services.billing.events import BillingEvent


class PassLedger:
    def __init__(self, inputs: PassInputs):
        self._inputs = inputs
        self._balance: int | None = None

    def balance(self) -> int:
        if self._balance is None:  # asked up to three times a pass; it changes only when we write
            self._balance = self._inputs.book.current_balance(self._inputs.account_id, self._inputs.now_gregorian)
        return self._balance

    def read_balance_again(self) -> None:
        """Someone else wrote (a payment posted meanwhile): the next balance is read afresh."""
        self._balance = None

    def funds_suffice(self, total: int) -> bool:
        return funds_check(balance=self.balance(), credit_line=self._inputs.context.credit_line, mrc_total=total)

    def write(self, charges: Sequence[Charge]) -> list[BillingEvent]:
        # A charge dated to an earlier day (a change seen late) is looked for from its own month.
        today = self._inputs.today
        month = min([(charge.day.year, charge.day.month) for charge in charges], default=(today.year, today.month))
        return self.write_entries(self._inputs.ledger_entries(charges), month)

    def write_entries(self, entries: Sequence[dict[str, Any]], business_month: Month) -> list[BillingEvent]:
        """Writes the entries not written before; a `charged` event for each written now."""
        inputs = self._inputs
        written = inputs.book.write(inputs.account_id, list(entries), business_month, inputs.now_gregorian)
        if written:
            self._balance = None
        by_event = {event_part(entry["_id"]): entry for entry in entries}
        events = []
        for entry_id in written:
            entry = by_event[event_part(entry_id)]
            meta = entry["metadata"]["kazbill"]
            events.append(
                BillingEvent(
                    "charged",
                    inputs.account_id,
                    {
                        "entry_id": entry_id,
                        "reason": meta["reason"],
                        "ledger_type": entry["pvt_ledger_type"],
                        "amount": entry["amount"],
                        "category": meta["category"],
                        "item": meta["item"],
                        "quantity": meta["quantity"],
                    },
                )
            )
        return events
