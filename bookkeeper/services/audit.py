"""Audit one account over a range of days: the charges its history calls for, against its
ledger. The history of users and devices comes from their documents (created, and deleted
with the time of deletion); for what Kazoo keeps no history of (limits, numbers) the audit
takes today's values for the whole range, and says so in the report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bookkeeper.domain.audit import AuditRules, Difference, Timeline, compare, expected_charges
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.quantities import Quantities
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing import BillingPorts
from bookkeeper.services.context import current_quantities, load_context
from bookkeeper.services.ledger_book import LedgerBook, months_from

ASSUMPTIONS = ("limits and phone numbers are taken at today's values for the whole range",
               "every period is assumed paid: a pending period shows its charges as missing")


@dataclass(frozen=True)
class AuditReport:
    account_id: str
    first_day: date
    last_day: date
    differences: list[Difference]
    expected_total: int
    ledger_total: int
    assumptions: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.differences


def history_from_documents(ports: BillingPorts, account_id: str, tz: str) -> Timeline:
    """Quantities of users and devices change by change, from each document's creation and
    deletion moments; a day with several changes has a step for each, in order, as the live
    bookkeeper saw them (an increase then a credit is not one credit)."""
    base = current_quantities(ports.store, account_id)
    base = {category: items for category, items in base.items() if category not in ("users", "devices")}
    steps: list[tuple[int, str, str, int]] = []
    for row in ports.store.all_docs(account_db(account_id), ViewQuery(include_docs=True)).rows:
        doc = row.doc or {}
        if doc.get("pvt_type") == "user":
            key = ("users", doc.get("priv_level") or "user")
        elif doc.get("pvt_type") == "device" and doc.get("enabled", True) is not False:
            key = ("devices", doc.get("device_type") or "sip_device")
        else:
            continue
        if isinstance(doc.get("pvt_created"), int):
            steps.append((doc["pvt_created"], *key, 1))
        if doc.get("pvt_deleted") and isinstance(doc.get("pvt_modified"), int):
            steps.append((doc["pvt_modified"], *key, -1))
    timeline: list[tuple[date, Quantities]] = []
    counts: dict[tuple[str, str], int] = {}
    last_moment = None
    for moment, category, item, delta in sorted(steps):
        counts[(category, item)] = counts.get((category, item), 0) + delta
        quantities: Quantities = {c: dict(i) for c, i in base.items()}
        for (c, i), n in counts.items():
            if n > 0:
                quantities.setdefault(c, {})[i] = n
        day = local_day_of_gregorian(moment, tz)
        if moment == last_moment:
            timeline[-1] = (day, quantities)  # documents saved together are one change
        else:
            timeline.append((day, quantities))
        last_moment = moment
    return timeline or [(date.min, base)]


def audit_account(ports: BillingPorts, account_id: str, first_day: date, last_day: date,
                  timeline: Timeline | None = None) -> AuditReport:
    context = load_context(ports.store, account_id, closed_too=True)
    tz = context.reseller.timezone
    rules = AuditRules(
        plan=context.plan, scheme_for=context.reseller.scheme_for, billing_day=context.account.billing_day,
        created_day=local_day_of_gregorian(context.account.created, tz),
        prorate_new_accounts=context.reseller.prorate_new_accounts, prorated_credits=context.reseller.prorated_credits)
    assumptions = () if timeline is not None else ASSUMPTIONS
    if timeline is None:
        timeline = history_from_documents(ports, account_id, tz)
        if context.closed_gregorian is not None:  # its documents stay as they were; billing stopped
            closed = local_day_of_gregorian(context.closed_gregorian, tz)
            timeline = [step for step in timeline if step[0] < closed] + [(closed, {})]
    expected = expected_charges(rules, timeline, first_day, last_day) if context.plan else []
    book = LedgerBook(ports.store, ports.design_docs)
    entries = []
    for month in months_from((first_day.year, first_day.month), (last_day.year + (last_day.month == 12),
                                                                  last_day.month % 12 + 1)):
        db = book.month_db(account_id, month, create=False)
        if db:
            entries += [dict(row.doc) for row in ports.store.all_docs(db, ViewQuery(include_docs=True)).rows
                        if row.doc and (row.doc.get("metadata") or {}).get("kazbill", {}).get("day", "")[:10]
                        and first_day.isoformat() <= row.doc["metadata"]["kazbill"]["day"] <= last_day.isoformat()]
    differences = compare(expected, entries)
    signed = lambda amount, kind: -amount if kind == "debit" else amount  # noqa: E731
    return AuditReport(account_id, first_day, last_day, differences,
                       sum(signed(c.amount, c.ledger_type) for c in expected),
                       sum(signed(e["amount"], e.get("pvt_ledger_type")) for e in entries
                           if "category" in e["metadata"]["kazbill"]), assumptions)
