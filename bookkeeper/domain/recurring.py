"""Monthly recurring charges (MRC): the period's opening charges and mid-period increases.

Read aloud: at the start of a period every MRC item with a quantity is debited its monthly
cost; a new account is debited only for the days left, if its reseller prorates. When an item
grows during the period, the growth is debited for the days left (today counted). What the
period has charged for an item is a high-water mark: each debit's id carries the period, the
item and the level it brings the item to, so a replay writes the same id, and a decrease
followed by the same increase is not charged again. Decreases are credited only where the
reseller enables prorated credits; each credit opens a new round of levels.
"""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.charges import CREDIT, DEBIT, Charge, month_prefix, slug
from bookkeeper.domain.periods import Period
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.proration import remaining_share


def _day_index(period: Period, day: date) -> int:
    period.days_left(day)  # raises when the day is outside the period
    return (day - period.start).days


def mrc_entry_id(period: Period, day: date, price: ItemPrice, round_: int = 0, kind: str = "mrc") -> str:
    suffix = f"-r{round_}" if round_ else ""
    return (
        f"{month_prefix(day)}-kazbill-{kind}-{period.key}-{slug(price.category)}-{slug(price.item)}"
        f"-q{price.billable_quantity}{suffix}"
    )


def _charge(
    period: Period,
    day: date,
    price: ItemPrice,
    amount: int,
    reason: str,
    ledger_type: str,
    entry_id: str,
    description: str,
    before: ItemPrice | None = None,
) -> Charge:
    return Charge(
        entry_id=entry_id,
        ledger_type=ledger_type,
        amount=amount,
        reason=reason,
        description=description,
        category=price.category,
        item=price.item,
        quantity=price.billable_quantity,
        rate=price.rate,
        monthly=price.monthly,
        days_charged=period.days - _day_index(period, day),
        days_in_period=period.days,
        period=period,
        day=day,
        name=price.name,
        names=tuple(sorted(price.names.items())),
        from_quantity=before.billable_quantity if before else 0,
        from_monthly=before.monthly if before else 0,
    )


def opening_charges(period: Period, day: date, prices: list[ItemPrice], *, prorate: bool) -> list[Charge]:
    """The debits that open `period` on `day`: the full month per item, or, with `prorate`
    (a new account joining mid-period), the cost of the days left."""
    charges = []
    index = _day_index(period, day)
    for price in prices:
        partial = prorate and index > 0
        amount = remaining_share(price.monthly, period.days, index) if partial else price.monthly
        if amount <= 0:
            continue
        reason = "recurring_prorate" if partial else "monthly_recurring"
        charges.append(
            _charge(
                period,
                day,
                price,
                amount,
                reason,
                DEBIT,
                mrc_entry_id(period, day, price),
                f"{price.name} × {price.billable_quantity}, {period.start.isoformat()}..{period.end.isoformat()}"
                + (f" ({period.days - index}/{period.days} days)" if partial else ""),
            )
        )
    return charges


def increase_charges(
    period: Period, day: date, now: ItemPrice, charged: ItemPrice | None, *, prorate: bool = True, round_: int = 0
) -> list[Charge]:
    """What an item's growth from its high-water mark `charged` to `now` costs on `day`:
    the difference of the two monthly costs for the days left (the full difference when the
    plan says not to prorate additions), plus the activation charge of each new item."""
    level = charged.billable_quantity if charged else 0
    if now.billable_quantity <= level:
        return []
    index = _day_index(period, day)
    before = charged.monthly if charged else 0
    if prorate:
        amount = remaining_share(now.monthly, period.days, index) - remaining_share(before, period.days, index)
    else:
        amount = now.monthly - before
    charges = []
    if amount > 0:
        charges.append(
            _charge(
                period,
                day,
                now,
                amount,
                "recurring_prorate" if prorate else "monthly_recurring",
                DEBIT,
                mrc_entry_id(period, day, now, round_),
                f"{now.name}: {level} → {now.billable_quantity}, {period.days - index}/{period.days} days"
                if prorate
                else f"{now.name}: {level} → {now.billable_quantity}",
                charged,
            )
        )
    activation = now.activation_charge * (now.billable_quantity - level)
    if activation > 0:
        charges.append(
            _charge(
                period,
                day,
                now,
                activation,
                "feature_activation",
                DEBIT,
                mrc_entry_id(period, day, now, round_, kind="activation"),
                f"{now.name}: activation of {now.billable_quantity - level}",
                charged,
            )
        )
    return charges


def decrease_credit(period: Period, day: date, now: ItemPrice, charged: ItemPrice, *, round_: int) -> Charge | None:
    """With prorated credits enabled: the days left of what the item no longer costs. `round_`
    is how many credits this item already had this period; the credit opens round `round_+1`."""
    if now.billable_quantity >= charged.billable_quantity:
        return None
    index = _day_index(period, day)
    amount = remaining_share(charged.monthly, period.days, index) - remaining_share(now.monthly, period.days, index)
    if amount <= 0:
        return None
    return _charge(
        period,
        day,
        now,
        amount,
        "recurring_prorate_credit",
        CREDIT,
        mrc_entry_id(period, day, now, round_ + 1, kind="credit"),
        f"{now.name}: {charged.billable_quantity} → {now.billable_quantity}, {period.days - index}/{period.days} days",
        charged,
    )
