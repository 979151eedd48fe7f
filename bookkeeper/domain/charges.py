"""A charge: what the bookkeeper decided to debit or credit, before it becomes a ledger entry.

Its `entry_id` is derived from the business event alone (the period or day, the item, the
quantity level), never from a clock or a counter, so the same event always yields the same id
and a second delivery conflicts with the first instead of charging twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bookkeeper.domain.periods import Period

# Kazoo's transaction reasons and codes (4.2 and the reference app), plus Kazbill's own in the
# same style. The code travels in the ledger's metadata; the reason is the source service.
REASON_CODES = {
    "per_minute_call": 1001,
    "sub_account_per_minute_call": 1002,
    "feature_activation": 2001,
    "number_activation": 2003,
    "manual_addition": 3001,
    "auto_addition": 3003,
    "admin_discretion": 3005,
    "topup": 3006,
    "paypal": 3007,
    "yandex_money": 3008,
    "braintree": 3009,
    "wire_transfer": 3010,
    "balance_correction": 3011,
    "paypal_refund": 3012,
    "paypal_reversal": 3013,
    "paypal_reversal_cancelled": 3014,
    "braintree_refund": 3015,
    "braintree_dispute": 3016,
    "braintree_dispute_won": 3017,
    "braintree_settlement_declined": 3018,
    "braintree_refund_failed": 3019,
    "credit_note": 3020,
    "database_rollup": 4000,
    "recurring": 5000,
    "monthly_recurring": 5001,
    "recurring_prorate": 5002,
    "daily_fee": 5003,
    "recurring_prorate_credit": 5004,
    "unknown": 9999,
}
DEBIT, CREDIT = "debit", "credit"


@dataclass(frozen=True)
class Charge:
    entry_id: str
    ledger_type: str  # "debit" or "credit"
    amount: int  # units, always > 0: the ledger type carries the sign, as in Kazoo's ledgers
    reason: str
    description: str
    category: str
    item: str
    quantity: int  # the billable quantity this charge brings the item to
    rate: int | None  # per item per month, units (None for flat prices)
    monthly: int  # the item's monthly cost at `quantity`, units
    days_charged: int  # numerator of the ratio: days_left, or 1 for a daily fee
    days_in_period: int
    period: Period
    day: date  # the (reseller-local) day the charge belongs to; it picks the monthly database
    # What a document needs to show the charge's arithmetic ("2 × 350.00 × 28/30"): the item's
    # name, and the level it was charged at before (quantity and monthly cost; 0 for a first charge).
    name: str = ""
    names: tuple[tuple[str, str], ...] = ()  # the name per language, where the plan gives some
    from_quantity: int = 0
    from_monthly: int = 0

    def __post_init__(self) -> None:
        if self.ledger_type not in (DEBIT, CREDIT):
            raise ValueError(f"ledger_type must be debit or credit, not {self.ledger_type!r}")
        if type(self.amount) is not int or self.amount <= 0:
            raise ValueError(f"{self.entry_id}: a charge amount must be a positive whole number of units")
        if self.reason not in REASON_CODES:
            raise ValueError(f"{self.entry_id}: unknown reason {self.reason!r}")

    @property
    def code(self) -> int:
        return REASON_CODES[self.reason]

    @property
    def ratio(self) -> str:
        return f"{self.days_charged}/{self.days_in_period}"


def month_prefix(day: date) -> str:
    """Kazoo names monthly documents YYYYMM-...; the day picks the month and its database."""
    return f"{day.year:04d}{day.month:02d}"


def slug(text: str) -> str:
    """Lossy: every character but letters, digits, `_` and `-` becomes `_`, so "PO 17" and "PO/17"
    share a slug. Fine for names Kazbill chooses (plan items); an id made from a key someone else
    chose is `bookkeeper.domain.id_parts`'s job, and slugs survive only in the ids written before it."""
    return "".join(char if char.isalnum() or char in "_-" else "_" for char in text)
