"""What a step of the billing pass decided, handed back to the pass rather than written into
shared state: the charges still to write, the events it caused, and whether it left the
period pending for lack of funds."""

from __future__ import annotations

from dataclasses import dataclass, field

from bookkeeper.domain.charges import Charge
from bookkeeper.services.billing.events import BillingEvent


@dataclass(frozen=True)
class StepOutcome:
    charges: list[Charge] = field(default_factory=list)
    events: list[BillingEvent] = field(default_factory=list)
    # Set only when the period is left pending: what its opening would debit (the amount shown
    # to the customer as what a payment must bring, with what the balance lacks).
    unpaid_charges: int | None = None

    def then(self, other: StepOutcome) -> StepOutcome:
        """This step followed by `other`: charges and events in order, the later verdict on funds."""
        unpaid = other.unpaid_charges if other.unpaid_charges is not None else self.unpaid_charges
        return StepOutcome(self.charges + other.charges, self.events + other.events, unpaid)
