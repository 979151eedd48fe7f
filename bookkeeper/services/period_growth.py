"""What a period owes for growth (and, where the reseller credits them, for decreases) on top
of what it has charged: the high-water marks read back from its entries, each change priced
for the days left from the day it happened.

A period opened late (the service away when it began, a change that reached the bookkeeper
before the day's crawl) is opened with what the account held when the period began; what
users, devices and periodic fees did since is read back from their lifetimes and charged from
the day each change happened, as an uninterrupted service would have charged it, and as the
audit recomputes it. Trunks, numbers and cascaded counts keep no history: their growth is
charged from the day it is seen.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.domain.ledger import period_levels
from bookkeeper.domain.periods import Period, day_start_utc, local_day_of_gregorian
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities, without
from bookkeeper.domain.recurring import decrease_credit, increase_charges
from bookkeeper.services.context import LIFETIME_CATEGORIES, lifetime_changes, quantities_at

if TYPE_CHECKING:  # the run is billing._Run; imported for types only, to keep one direction
    from bookkeeper.services.billing import _Run


def increases(run: "_Run", period: Period, monthly: list[ItemPrice], *, day: date | None = None,
              entries: Sequence[Mapping[str, Any]] | None = None) -> list[Charge]:
    """The charges that bring the period from its high-water marks (read from `entries`, by
    default the ledger's) to `monthly` on `day` (by default the pass's day)."""
    if entries is None:
        entries = run.book.entries(run.account_id, "charges_by_period", [period.start.isoformat()],
                                   run.period_months(period))
    day = day or run.today
    levels = period_levels(entries, period)
    plan, reseller = run.context.plan, run.context.reseller
    charges: list[Charge] = []
    current = {(p.category, p.item): p for p in monthly}
    for key, charged in levels.levels.items():  # items that went down or away
        now = current.get(key) or ItemPrice(key[0], key[1], charged.name, 0, 0, None, 0, 0, 0, 0)
        item = plan.item(*key) if plan else None
        if reseller.prorated_credits or (item and item.prorate_removals):
            credit = decrease_credit(period, day, now, charged, round_=levels.round_of(*key))
            charges += [credit] if credit else []
    for key, price in current.items():
        item = plan.item(*key) if plan else None
        charges += increase_charges(period, day, price, levels.level(*key),
                                    prorate=item.prorate_additions if item else True, round_=levels.round_of(*key))
    return charges


def held_when_began(run: "_Run", day: date, now: Quantities) -> Quantities:
    """What the account held when `day` began in its reseller's time, read back from its
    documents' lifetimes; what keeps no history stays as it is `now`."""
    then = quantities_at(run.ports.store, run.account_id, _day_start(run, day))
    return {**now, **{category: then.get(category, {}) for category in _with_history(run)}}


def growth_since_the_start(run: "_Run", period: Period, opening: list[Charge], now: Quantities,
                           cancelled: Sequence[tuple[str, str]]) -> list[Charge]:
    """For a period being opened with what it began with (`opening`): each change of users,
    devices and periodic fees since, up to now or the period's end, charged from its own day."""
    until = min(to_gregorian_seconds(int(run.ports.clock.now().timestamp())),
                _day_start(run, period.end + timedelta(days=1)) - 1)
    entries = run.ledger_entries(opening)
    grown: list[Charge] = []
    for moment, held in lifetime_changes(run.ports.store, run.account_id, _day_start(run, period.start), until):
        quantities = {**now, **{category: held.get(category, {}) for category in _with_history(run)}}
        monthly = run.prices(without(quantities, list(cancelled)))[0]
        day = local_day_of_gregorian(moment, run.context.reseller.timezone)
        step = increases(run, period, monthly, day=day, entries=entries)
        entries += run.ledger_entries(step)
        grown += step
    return grown


def _day_start(run: "_Run", day: date) -> int:
    return to_gregorian_seconds(int(day_start_utc(day, run.context.reseller.timezone).timestamp()))


def _with_history(run: "_Run") -> list[str]:
    """The categories read back from lifetimes: a cascaded count spans other accounts' documents."""
    plan = run.context.plan
    cascading = {category for (category, _), item in plan.items.items() if item.cascade} if plan else set()
    return [category for category in LIFETIME_CATEGORIES if category not in cascading]
