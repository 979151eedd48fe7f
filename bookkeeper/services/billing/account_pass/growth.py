"""What a period owes for growth (and, where the reseller credits them, for decreases) on top
of what it has charged, each change priced from the moment it happened in Kazoo.

The account's quantity history (`quantity_history`) says when each change happened: users,
devices and periodic fees by their documents' creation and deletion, trunks and numbers from
their documents' last modification. Every pass walks the period's changes in order and
charges each one that lifts an item above its high-water mark from that change's own day, then
what the account holds now from today. So a change is charged the same whether Kazbill sees it
at once, the next morning (a slow feed, a restart, a change that reaches the bookkeeper after
the day's crawl) or a period later, and a replay charges nothing: the levels already charged
are read back from the ledger. Daily fees are priced the same way, at each day's highest
quantity, for the days a late change touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from bookkeeper.domain.charges import Charge
from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.history import known_only, merged
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.domain.ledger import day_levels, period_levels, period_schemes
from bookkeeper.domain.periods import Period, day_start_utc, local_day_of_gregorian
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities, without
from bookkeeper.domain.recurring import decrease_credit, increase_charges
from bookkeeper.services.billing.account_pass.inputs import PassInputs


def increases(
    inputs: PassInputs,
    period: Period,
    monthly: list[ItemPrice],
    *,
    day: date | None = None,
    entries: Sequence[Mapping[str, Any]] | None = None,
    known: Iterable[str] | None = None,
    reached: Mapping[tuple[str, str], int] | None = None,
) -> list[Charge]:
    """The charges that bring the period from its high-water marks (read from `entries`, by
    default the ledger's) to `monthly` on `day` (by default the pass's day). Items of a
    category not `known` at that moment are left as they were charged. `reached`: the most of
    each item held so far in the walk; a level not reached yet at this moment (a change seen
    late, charged by an earlier pass from its own later moment) is not a decrease now."""
    if entries is None:
        entries = period_entries(inputs, period)
    day = day or inputs.today
    levels = period_levels(entries, period)
    plan, reseller = inputs.context.plan, inputs.context.reseller
    considered = None if known is None else set(known)
    charges: list[Charge] = []
    current = {(p.category, p.item): p for p in monthly}
    for key, charged in levels.levels.items():  # items that went down or away
        if considered is not None and key[0] not in considered:
            continue
        if (
            reached is not None
            and key[0] in inputs.history.lifeline_categories
            and reached.get(key, 0) < charged.billable_quantity
        ):
            continue  # a snapshot's one moment comes after any level charged before it
        now = current.get(key) or ItemPrice(key[0], key[1], charged.name, 0, 0, None, 0, 0, 0, 0)
        item = plan.item(*key) if plan else None
        if reseller.prorated_credits or (item and item.prorate_removals):
            credit = decrease_credit(period, day, now, charged, round_=levels.round_of(*key))
            charges += [credit] if credit else []
    for key, price in current.items():
        if considered is not None and key[0] not in considered:
            continue
        item = plan.item(*key) if plan else None
        charges += increase_charges(
            period,
            day,
            price,
            levels.level(*key),
            prorate=item.prorate_additions if item else True,
            round_=levels.round_of(*key),
        )
    return charges


def period_entries(inputs: PassInputs, period: Period) -> list[dict[str, Any]]:
    """What the period has charged. A period before the one billed is read with it: the pass
    asks for that one's next (run_pass: the previous period settled, then the current one)."""
    billed = inputs.period_start
    then = [billed.isoformat()] if billed is not None and billed > period.start else []
    return inputs.book.entries(
        inputs.account_id, "charges_by_period", [period.start.isoformat()], inputs.period_months(period), then
    )


def held_when_began(inputs: PassInputs, day: date, now: Quantities) -> Quantities:
    """What the account held when `day` began in its reseller's time; a category the history
    does not know then (trunks or numbers changed since, cascaded counts) as it is `now`."""
    held, known = inputs.history.at(day_start(inputs, day))
    return as_known(now, held, known)


def first_day_holdings(inputs: PassInputs, day: date, now: Quantities) -> Quantities:
    """What an account younger than its period opens with: the most it held on `day`, the day
    it was created (up to now); a category the history does not know then as it is `now`."""
    start, end = day_start(inputs, day), day_start(inputs, day + timedelta(days=1))
    highest, known = inputs.history.highest(start, min(end, inputs.now_gregorian + 1))
    return as_known(now, highest, known)


def as_known(now: Quantities, held: Quantities, known: frozenset[str]) -> Quantities:
    """`now`, with every category the history knows at that moment replaced by what it says was
    held, none included: a category it knows but lists nothing of was held at none then (a
    first phone added mid-period must not be taken as held since the period began)."""
    return {**now, **{category: {} for category in known}, **known_only(held, known)}


def growth(
    inputs: PassInputs,
    period: Period,
    now: Quantities,
    *,
    entries: Sequence[Mapping[str, Any]] | None = None,
    cancelled: Sequence[tuple[str, str]] = (),
) -> list[Charge]:
    """Every change since the period began, up to now or its end, each from its own day, then,
    while the period runs, what the account holds now, from today. `entries`: what the period
    has charged (by default read from the ledger; an opening passes the entries it decided)."""
    entries = list(period_entries(inputs, period) if entries is None else entries)
    kept = inputs.book.schemes[period.start] = period_schemes(entries, period)
    first = day_start(inputs, max(period.start, first_day(inputs)))  # a trial's free days are not walked
    last = day_start(inputs, period.end + timedelta(days=1)) - 1
    walk_from = max(first, _last_credit(entries, period))
    reached = _left_by_last_credit(entries, period, walk_from) if walk_from > first else {}

    def priced(held: Quantities, known: Iterable[str] | None = None) -> list[ItemPrice]:
        monthly = inputs.prices(without(held if known is None else known_only(held, known), cancelled), kept)[0]
        for price in monthly:
            key = (price.category, price.item)
            reached[key] = max(reached.get(key, 0), price.billable_quantity)
        return monthly

    priced(*inputs.history.at(walk_from))
    charges: list[Charge] = []
    for moment in inputs.history.moments(walk_from, min(inputs.now_gregorian, last)):
        held, known = inputs.history.at(moment)
        step = increases(
            inputs,
            period,
            priced(held, known),
            reached=reached,
            day=local_day_of_gregorian(moment, inputs.context.reseller.timezone),
            entries=entries,
            known=known,
        )
        entries += inputs.ledger_entries(step)
        charges += step
    if period.contains(inputs.present):
        charges += increases(inputs, period, priced(now), day=inputs.present, entries=entries, reached=reached)
    return charges


def _left_by_last_credit(
    entries: Sequence[Mapping[str, Any]], period: Period, moment: int
) -> dict[tuple[str, str], int]:
    """The levels the latest credit's pass left, held at its moment whatever the history now
    says of that moment: two phones deleted in the same second, seen by two passes, were held
    at one for the first pass's credit though the history now says none at that second; a
    second credit (from one to none) is owed, not a level "not reached yet"."""
    before = [entry for entry in entries if (entry.get("pvt_created") or 0) <= moment]
    return {key: charged.billable_quantity for key, charged in period_levels(before, period).levels.items()}


def _last_credit(entries: Sequence[Mapping[str, Any]], period: Period) -> int:
    """When the period's latest prorated credit was written. A credit starts a new round of
    levels (recurring.py): replaying a change from before it would charge, in the new round,
    what the old one paid. So the history is walked from the latest credit's pass on: a change
    made before that pass but seen only after it is charged from the day it is seen (a
    reseller who credits decreases gives up those days rather than risk charging twice)."""
    start = period.start.isoformat()
    return max(
        (
            entry.get("pvt_created") or 0
            for entry in entries
            if ((entry.get("metadata") or {}).get("kazbill") or {}).get("reason") == "recurring_prorate_credit"
            and entry["metadata"]["kazbill"].get("period", {}).get("start") == start
        ),
        default=0,
    )


def daily_fees(
    inputs: PassInputs,
    period: Period,
    now: Quantities,
    *,
    price_today: bool,
    missed: Collection[date] = (),
    written: Sequence[Charge] = (),
    touched_days: bool = True,
    ended: bool = False,
) -> list[Charge]:
    """Each day's fee at the day's highest quantity: the pass's day when `price_today`, every
    earlier day of the period a change touched (unless not `touched_days`), for what is known
    of it, and the `missed` days (no crawl of the account logged them) as a late crawl of them
    would. A category is charged the way the period has been charging it
    (ledger.period_schemes); `written`: what the pass charged before it (an opening's debits).
    An `ended` period's missed days are charged only in the categories it charged by the day:
    the reseller may have switched one to daily since it ended, and nothing records when."""
    entries = [*period_entries(inputs, period), *inputs.ledger_entries(written)]
    tz = inputs.context.reseller.timezone
    first = max(period.start, first_day(inputs))
    touched = (
        {
            local_day_of_gregorian(moment, tz)
            for moment in inputs.history.moments(day_start(inputs, first) - 1, inputs.now_gregorian)
        }
        | _trial_ended(inputs)
        if touched_days
        else set()
    )
    past = touched | set(missed)
    days = sorted(day for day in past if first <= day < min(inputs.today, period.end + timedelta(days=1)))
    kept = period_schemes(entries, period)
    charges: list[Charge] = []
    for day in days + ([inputs.today] if price_today else []):
        late_crawl = (price_today and day == inputs.today) or day in missed
        held = _day_highest(inputs, day, now, guess_unknown=late_crawl)
        levels = day_levels(entries, day)
        as_kept = ended and day not in touched
        for price in inputs.prices(held, kept)[1]:
            if as_kept and kept.get(price.category) != "daily":
                continue
            charge = daily_fee_charge(period, day, price, levels.level(price.category, price.item))
            charges += [charge] if charge else []
    return charges


def _trial_ended(inputs: PassInputs) -> set[date]:
    """The first billed day of a trial that expired unconverted: its billing began then as a new
    account's does on the day it was created (whose documents' creation makes that day one a
    change touched), so it is priced even when its crawl missed it, and the crawls' missed days
    run from it (crawl_log: a day charged a fee)."""
    began = first_day(inputs)
    created = local_day_of_gregorian(inputs.context.account.created, inputs.context.reseller.timezone)
    return {began} if began != created else set()


def first_day(inputs: PassInputs) -> date:
    """The first day the account is charged for, in its reseller's time: the day it was
    created, or the day after its trial expired unconverted (standing.first_billed_day)."""
    return inputs.context.account.first_billed_day(inputs.context.reseller.timezone)


def _day_highest(inputs: PassInputs, day: date, now: Quantities, *, guess_unknown: bool) -> Quantities:
    """The most held at any moment of `day` that is known; on the present day, what is held now
    too. `guess_unknown`: the day's first pricing, late (a catch-up crawl), takes what is not
    known of the day as it is now, as a crawl on time would have seen it."""
    start, end = day_start(inputs, day), day_start(inputs, day + timedelta(days=1))
    highest, known = inputs.history.highest(start, min(end, inputs.now_gregorian + 1))
    if day == inputs.present:
        return merged(known_only(highest, known), now)
    if guess_unknown:
        return as_known(now, highest, known)
    return known_only(highest, known)


def day_start(inputs: PassInputs, day: date) -> int:
    return gregorian_of(day_start_utc(day, inputs.context.reseller.timezone))
