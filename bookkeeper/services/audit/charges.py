"""Audit one account over a range of days: the charges its history calls for, against its
ledger. The history of users and devices comes from their documents (created, and deleted
with the time of deletion); for what Kazoo keeps no history of (limits, numbers) the audit
takes today's values for the whole range, and says so in the report."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from bookkeeper.domain.audit import AuditRules, Difference, Timeline, compare, expected_charges
from bookkeeper.domain.kazoo_months import rollover_id
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.ledger import period_schemes
from bookkeeper.domain.periods import local_day_of_gregorian, period_containing
from bookkeeper.domain.quantities import Quantities
from bookkeeper.domain.settings import ONBILL_DOC_ID
from bookkeeper.ports import ViewQuery, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import current_quantities, load_context
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, next_month, previous_month
from bookkeeper.services.billing.quantity_history import account_history

ASSUMPTIONS = (
    "trunks and the numbers of an older phone_numbers document are taken at today's values for the whole range",
    "every period is assumed paid: a pending period shows its charges as missing",
    "a period charges a category the way it began to (by the month or by the day), as its ledger shows;"
    " one it has not charged yet goes by the reseller's setting of today",
)


@dataclass(frozen=True)
class AuditReport:
    account_id: str
    first_day: date
    last_day: date
    differences: list[Difference]
    expected_total: int
    ledger_total: int
    assumptions: tuple[str, ...]
    # Charges written after the period they belong to had ended: a change Kazbill saw only then
    # (its day and period are in the entry; it sits in a later month's database). Not a
    # difference: reported so a reseller knows why a closed month's documents did not show it.
    late_charges: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.differences


def history_from_documents(ports: BillingPorts, account_id: str, tz: str) -> Timeline:
    """Quantities change by change, from the moments billing dates them by (quantity_history):
    users, devices, periodic fees and Kazoo 4's numbers each from their own documents; a day
    with several changes has a step for each, in order, as the live bookkeeper saw them (an
    increase then a credit is not one credit). What keeps no history (trunks, the older
    phone_numbers document) is taken at today's values for the whole range."""
    now = gregorian_now(ports.clock)
    current = current_quantities(ports.store, account_id)
    history = account_history(ports.store, account_id, limits=None, now_quantities=current, now=now, remember=False)
    base = {category: items for category, items in current.items() if category not in history.lifeline_categories}

    def held(moment: int) -> Quantities:
        return {**base, **history.at(moment)[0]}

    timeline: list[tuple[date, Quantities]] = [(date.min, held(0))]
    for moment in history.moments(0, now):
        timeline.append((local_day_of_gregorian(moment, tz), held(moment)))
    return timeline


def audit_account(
    ports: BillingPorts, account_id: str, first_day: date, last_day: date, timeline: Timeline | None = None
) -> AuditReport:
    context = load_context(ports.store, account_id, closed_too=True)
    tz = context.reseller.timezone
    charged = _kazbill_entries(ports, account_id, first_day, last_day)
    rules = (
        AuditRules(
            plan=context.plan,
            scheme_for=context.reseller.scheme_for,
            billing_day=context.account.billing_day,
            created_day=max(context.account.first_billed_day(tz), _converted_on(ports, account_id) or date.min),
            prorate_new_accounts=context.reseller.prorate_new_accounts,
            prorated_credits=context.reseller.prorated_credits,
            kept=_kept_schemes(charged, context.account.billing_day),
        )
        if context.plan
        else None
    )  # no plan: nothing is expected
    assumptions = () if timeline is not None else ASSUMPTIONS
    if timeline is None:
        timeline = history_from_documents(ports, account_id, tz)
        if context.closed_gregorian is not None:  # its documents stay as they were; billing stopped
            closed = local_day_of_gregorian(context.closed_gregorian, tz)
            timeline = [step for step in timeline if step[0] < closed] + [(closed, {})]
    expected = expected_charges(rules, timeline, first_day, last_day) if rules is not None else []
    entries = [
        entry
        for entry in charged
        if first_day.isoformat() <= entry["metadata"]["kazbill"].get("day", "")[:10] <= last_day.isoformat()
    ]
    differences = compare(expected, entries)
    signed = lambda amount, kind: -amount if kind == "debit" else amount  # noqa: E731
    return AuditReport(
        account_id,
        first_day,
        last_day,
        differences,
        sum(signed(c.amount, c.ledger_type) for c in expected),
        sum(signed(e["amount"], e.get("pvt_ledger_type")) for e in entries if "category" in e["metadata"]["kazbill"]),
        assumptions,
        tuple(sorted(entry["_id"] for entry in entries if _written_after_its_period(entry, tz))),
    )


def _converted_on(ports: BillingPorts, account_id: str) -> date | None:
    """The day a trial converted (trials.py writes it on the account's onbill): billed from
    there, its periods beginning there; the trial's days before it owe nothing."""
    onbill = ports.store.get_many(account_db(account_id), [ONBILL_DOC_ID]).get(ONBILL_DOC_ID) or {}
    try:
        return date.fromisoformat(onbill["trial_converted_on"])
    except (KeyError, TypeError, ValueError):
        return None


def _kazbill_entries(ports: BillingPorts, account_id: str, first_day: date, last_day: date) -> list[dict]:
    """Kazbill's entries in the monthly databases the range touches, the month before and the
    month after (a local day's first hours are in the UTC month before; a late change settled
    after the range is in the month after)."""
    book = LedgerBook(ports.store, ports.design_docs)
    entries = []
    for month in months_from(
        previous_month((first_day.year, first_day.month)), next_month((last_day.year, last_day.month))
    ):
        db = book.month_db(account_id, month, create=False)
        if db:
            entries += [
                dict(row.doc)
                for row in ports.store.all_docs(db, ViewQuery(include_docs=True)).rows
                if row.doc and isinstance((row.doc.get("metadata") or {}).get("kazbill"), dict)
            ]
    return entries


def _kept_schemes(entries: list[dict], billing_day: int) -> dict[date, dict[str, str]]:
    """How each period the entries belong to has been charging its categories: the way it
    began to, which the reseller's setting at that moment decided (nothing records when the
    setting changed; the ledger says how the period was charged)."""
    starts = {
        entry["metadata"]["kazbill"]["period"]["start"]
        for entry in entries
        if isinstance(entry["metadata"]["kazbill"].get("period"), dict)
        and isinstance(entry["metadata"]["kazbill"]["period"].get("start"), str)
    }
    kept = {}
    for start in starts:
        with contextlib.suppress(ValueError):
            first = date.fromisoformat(start)
            kept[first] = period_schemes(entries, period_containing(billing_day, first))
    return kept


def _written_after_its_period(entry: dict, tz: str) -> bool:
    meta = entry["metadata"]["kazbill"]
    end, written = (meta.get("period") or {}).get("end"), entry.get("pvt_created")
    if not isinstance(end, str) or not isinstance(written, int) or "category" not in meta:
        return False
    return local_day_of_gregorian(written, tz).isoformat() > end


def rollover_differences(ports: BillingPorts, account_id: str, first_day: date, last_day: date) -> list[Difference]:
    """Each month's rollover (with the corrections Kazbill added) against the total of the month
    it closes, for the months the range touches, the one before (a local day's first hours are
    in the UTC month before) and the one after: Kazoo's balance reads only the
    current month, so a difference is money in no balance (the midnight race)."""
    book = LedgerBook(ports.store, ports.design_docs)
    found = []
    for month in months_from(
        previous_month((first_day.year, first_day.month)), next_month((last_day.year, last_day.month))
    ):
        closing, closed = (
            book.month_db(account_id, next_month(month), create=False),
            book.month_db(account_id, month, create=False),
        )
        if closing is None or closed is None or not book.has_rollover(account_id, next_month(month)):
            continue
        carried, total = book.carried_into(account_id, next_month(month)), book.month_total(closed)
        if carried != total:
            found.append(Difference(rollover_id(next_month(month)), "rollover", total, carried))
    return found
