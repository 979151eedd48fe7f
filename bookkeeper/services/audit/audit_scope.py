"""`kazbill audit` over an account, a reseller's subtree or every account: the recurring charges
the history calls for against the ledger (services.audit), and the registered payments and
corrections against their entries (domain.audit.compare_postings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bookkeeper.domain.audit import Difference, Timeline, compare_postings
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.audit.audit_calls import audit_calls
from bookkeeper.services.audit.charges import AuditReport, audit_account, rollover_differences
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import BillingInputError, load_context
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, previous_month
from bookkeeper.services.cluster.store_conflicts import ConflictedDocument, find_conflicts
from bookkeeper.services.payments.postings import GATEWAY_CREDITS, GATEWAY_DEBITS, MANUAL_CREDITS, MANUAL_DEBITS

POSTING_REASONS = GATEWAY_CREDITS + GATEWAY_DEBITS + MANUAL_CREDITS + MANUAL_DEBITS


@dataclass
class AccountAudit:
    account_id: str
    name: str = ""
    charges: AuditReport | None = None
    postings: list[Difference] = field(default_factory=list)
    calls: list[Difference] = field(default_factory=list)  # per-minute debits against the CDRs
    # Rollovers that do not carry the month they close (Kazoo's balance would lose the rest).
    rollovers: list[Difference] = field(default_factory=list)
    error: str | None = None  # the account's documents could not be audited (named field)
    # Documents of its account and ledger databases with more than one live revision (a
    # cluster's racing writers), resolved as found (services.store_conflicts).
    conflicts: list[ConflictedDocument] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        return (self.charges.differences if self.charges else []) + self.postings + self.calls + self.rollovers

    @property
    def clean(self) -> bool:
        return self.error is None and not self.differences and not self.conflicts


def accounts_in_scope(
    ports: BillingPorts, *, account_id: str | None = None, reseller_id: str | None = None
) -> list[str]:
    """One account; or a reseller and every account below it; or (neither) every account, the
    closed ones too (they answer for what was charged before they closed)."""
    if account_id:
        return [account_id]
    store = ports.store
    if reseller_id:
        below = store.query_view(
            ACCOUNTS_DB,
            "kazbill_accounts",
            "by_ancestor",
            ViewQuery(start_key=[reseller_id], end_key=[reseller_id, {}], reduce=False),
        ).rows
        closed = store.query_view(
            ACCOUNTS_DB,
            "kazbill_accounts",
            "closed_by_ancestor",
            ViewQuery(start_key=[reseller_id], end_key=[reseller_id, {}]),
        ).rows
        return [reseller_id] + sorted({row.id for row in [*below, *closed] if row.id is not None})
    rows = store.all_docs(ACCOUNTS_DB).rows
    return sorted(row.id for row in rows if row.id is not None and not row.id.startswith("_"))


def audit_accounts(
    ports: BillingPorts,
    account_ids: list[str],
    first_day: date,
    last_day: date,
    histories: Mapping[str, Timeline] | None = None,
    *,
    calls: bool = True,
) -> list[AccountAudit]:
    """`histories`: accounts' quantities day by day from a source that knows them (the
    simulator's record); the others' are read from their documents. With `calls`, the calls the
    accounts placed too (a reseller above the scope is listed for its debits of those calls)."""
    audits = _audit_charges(ports, account_ids, first_day, last_day, histories)
    if calls:
        by_account = {audit.account_id: audit for audit in audits}
        for payer, differences in audit_calls(ports, account_ids, first_day, last_day).items():
            if payer not in by_account:
                by_account[payer] = AccountAudit(payer)
                audits.append(by_account[payer])
            by_account[payer].calls = differences
    return audits


def _audit_charges(
    ports: BillingPorts,
    account_ids: list[str],
    first_day: date,
    last_day: date,
    histories: Mapping[str, Timeline] | None,
) -> list[AccountAudit]:
    audits = []
    for account_id in account_ids:
        audit = AccountAudit(account_id)
        # First: a conflicted document may be what the rest cannot read.
        audit.conflicts = find_conflicts(
            ports.store,
            [
                account_db(account_id),
                *(account_modb(account_id, year, month) for year, month in _ledger_months(first_day, last_day)),
            ],
            resolve=True,
        )
        try:
            context = load_context(ports.store, account_id, closed_too=True)
        except BillingInputError as error:
            audit.error = f"{error.field}: {error.reason}"
            audits.append(audit)
            continue
        audit.name = context.account_name
        if not context.billable:
            if audit.conflicts:
                audits.append(audit)
            continue  # the master bills no one above it
        audit.charges = audit_account(ports, account_id, first_day, last_day, (histories or {}).get(account_id))
        audit.postings = _postings(ports, account_id, first_day, last_day)
        audit.rollovers = rollover_differences(ports, account_id, first_day, last_day)
        audits.append(audit)
    return audits


def _ledger_months(first_day: date, last_day: date) -> list[tuple[int, int]]:
    """The monthly databases a local date range can have written into: entries go by Kazoo's UTC
    month, so a reseller east of Greenwich writes its 1st's first hours into the month before."""
    return months_from(previous_month((first_day.year, first_day.month)), (last_day.year, last_day.month))


def _postings(ports: BillingPorts, account_id: str, first_day: date, last_day: date) -> list[Difference]:
    months = _ledger_months(first_day, last_day)
    prefixes = {f"{year:04d}{month:02d}" for year, month in months}
    try:
        registrations = [
            row.doc
            for row in ports.store.all_docs(
                account_db(account_id),
                ViewQuery(start_key="kazbill_posting-", end_key="kazbill_posting-\ufff0", include_docs=True),
            ).rows
            if row.doc and row.doc.get("entry_id", "")[:6] in prefixes
        ]
    except DatabaseNotFound:
        registrations = []
    book, entries = LedgerBook(ports.store, ports.design_docs), []
    for month in months:
        db = book.month_db(account_id, month, create=False)
        if db:
            entries += [row.doc for row in ports.store.all_docs(db, ViewQuery(include_docs=True)).rows if row.doc]
    return compare_postings(registrations, entries, POSTING_REASONS)
