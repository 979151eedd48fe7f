"""Daily fees: each day, every daily-fee item is debited one day's share of its monthly cost
at that day's highest quantity.

The first charge of a day prices the quantity the day starts with; a rise later that day is
debited at once, as the difference between the day's share at the new level and what the day
already paid (so the day ends up paying exactly its share at its maximum); a fall the same day
changes nothing. The days of an unchanged period add up to exactly the monthly cost.
"""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.charges import DEBIT, Charge, month_prefix, slug
from bookkeeper.domain.periods import Period
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.proration import daily_share


def daily_entry_id(day: date, price: ItemPrice) -> str:
    return (
        f"{month_prefix(day)}-kazbill-daily-{day.year:04d}{day.month:02d}{day.day:02d}"
        f"-{slug(price.category)}-{slug(price.item)}-q{price.billable_quantity}"
    )


def daily_fee_charge(period: Period, day: date, now: ItemPrice, charged_today: ItemPrice | None) -> Charge | None:
    """The debit that brings `day` to its share at `now`, given what it was charged at so far."""
    period.days_left(day)  # raises when the day is outside the period
    if charged_today and now.billable_quantity <= charged_today.billable_quantity:
        return None
    index = (day - period.start).days
    paid = daily_share(charged_today.monthly, period.days, index) if charged_today else 0
    amount = daily_share(now.monthly, period.days, index) - paid
    if amount <= 0:
        return None
    level = charged_today.billable_quantity if charged_today else 0
    return Charge(
        entry_id=daily_entry_id(day, now),
        ledger_type=DEBIT,
        amount=amount,
        reason="daily_fee",
        description=f"{now.name} × {now.billable_quantity}, {day.isoformat()}"
        + (f" (raised from {level})" if level else ""),
        category=now.category,
        item=now.item,
        quantity=now.billable_quantity,
        rate=now.rate,
        monthly=now.monthly,
        days_charged=1,
        days_in_period=period.days,
        period=period,
        day=day,
        name=now.name,
        names=tuple(sorted(now.names.items())),
        from_quantity=level,
        from_monthly=charged_today.monthly if charged_today else 0,
    )
